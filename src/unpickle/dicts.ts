/**
 * The default mode's dict representation, one of the decoder's performance mechanisms.
 *
 * Why: in the default mode a dict whose keys are all str is a plain object (what JS users expect, and
 * cheaper to build than a Map). A key of another type can arrive after the dict was created, memoized
 * and even shared, so the object is then upgraded to a Map.
 *
 * Invariant (tested by test/decoder-mechanisms.test.ts and test/sharing.test.ts): after an upgrade no
 * reference to the old plain object remains anywhere in the result. The stack slot and every memo
 * slot holding it are replaced at once (memo slots are found through `memoIndex`, built at the first
 * upgrade); when the object may have been copied elsewhere (a GET read its memo slot, DUP, a handler
 * returned it: `gotten`/`escaped`), a final walk over the result (fixUpgraded) replaces the rest.
 *
 * Memo tracking exists so that walk can be skipped: gotten[i] = 1 once memo slot i was read by a GET;
 * an upgraded dict that no GET, DUP or handler could have shared is referenced only by its stack and
 * memo slots (the walk was 40 % of decoding a dict with tuple keys).
 */
import { PyObject, isPlainObject, setOwn } from '../python/values.js';

/** What the mechanism keeps on the machine (fields, so the loop reaches them without indirection). */
export interface DictTracking {
  memo: unknown[];
  /** plain object → the memo slots holding it; built at the first upgrade, kept current after. */
  memoIndex: Map<object, number[]> | undefined;
  /** old plain object → its Map, for the final walk (only upgrades that may have been shared). */
  upgraded: Map<object, Map<unknown, unknown>> | undefined;
  gotten: Uint8Array;
  escaped: boolean;
}

/** Keep the plain-object → memo-slot index current once an upgrade needed it. */
export function indexMemo(st: DictTracking, v: unknown, idx: number): void {
  if (st.memoIndex !== undefined && isPlainObject(v)) {
    const list = st.memoIndex.get(v);
    if (list) list.push(idx);
    else st.memoIndex.set(v, [idx]);
  }
}

/**
 * LONG_BINGET/GET of an index beyond `gotten`: grow it, or give up tracking (treat every dict as
 * shared) for an index far beyond the memo's size: a few bytes of input must not buy a huge bitmap.
 */
export function markGotten(st: DictTracking, idx: number, memoCount: number): Uint8Array {
  if (idx >= 1 << 26 || idx > 4 * memoCount + 4096) st.escaped = true;
  else {
    const g = new Uint8Array(Math.max(idx + 1, st.gotten.length * 2));
    g.set(st.gotten);
    g[idx] = 1;
    st.gotten = g;
  }
  return st.gotten;
}

/** The plain-object dict at stack[at] (or none: at = -1) gets a non-string key: it becomes a Map. */
export function upgradeDict(
  st: DictTracking,
  obj: Record<string, unknown>,
  stack: unknown[],
  at: number,
): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>(Object.entries(obj));
  if (st.memoIndex === undefined) {
    st.memoIndex = new Map();
    const memo = st.memo;
    // Dense memo: index loop (Object.keys would make a string per slot); a sparse one (huge
    // LONG_BINPUT indices) has few keys.
    if (memo.length <= 1 << 24) {
      for (let i = 0; i < memo.length; i++) if (memo[i] !== undefined) indexMemo(st, memo[i], i);
    } else for (const k of Object.keys(memo)) indexMemo(st, memo[k as unknown as number], Number(k));
  }
  let shared = st.escaped;
  for (const idx of st.memoIndex.get(obj) ?? []) {
    st.memo[idx] = map;
    // (a GET beyond `gotten` grew it or set `escaped`, so slots past its end were never read)
    if (idx < st.gotten.length && st.gotten[idx] === 1) shared = true;
  }
  st.memoIndex.delete(obj);
  if (at >= 0) stack[at] = map;
  if (shared) (st.upgraded ??= new Map()).set(obj, map);
  return map;
}

/**
 * Replace the references to upgraded dicts that the stack and memo did not hold (cycles through the
 * memo, values a handler kept). Runs only when an upgrade may have been shared.
 */
export function fixUpgraded(root: unknown, upgraded: Map<object, Map<unknown, unknown>>): unknown {
  const swap = (v: unknown): unknown =>
    v !== null && typeof v === 'object' && upgraded.has(v) ? upgraded.get(v) : v;
  const seen = new Set<object>();
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        v[i] = swap(v[i]);
        todo.push(v[i]);
      }
    } else if (v instanceof Map) {
      const entries = [...v.entries()];
      if (entries.some(([k, x]) => swap(k) !== k || swap(x) !== x)) {
        v.clear();
        for (const [k, x] of entries) v.set(swap(k), swap(x));
      }
      for (const [k, x] of v) todo.push(k, x);
    } else if (v instanceof Set) {
      const items = [...v];
      if (items.some((x) => swap(x) !== x)) {
        v.clear();
        for (const x of items) v.add(swap(x));
      }
      for (const x of v) todo.push(x);
    } else if (v instanceof PyObject) {
      for (const k of Object.keys(v)) {
        v[k] = swap(v[k]);
        todo.push(v[k]);
      }
      v.__state__ = swap(v.__state__);
      todo.push(v.__args__, v.__state__, v.__items__, v.__dictitems__);
    } else if (!ArrayBuffer.isView(v)) {
      // Plain dicts, and handlers' values (an object array's elements, a frame's columns…).
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const x = swap(o[k]);
        if (x !== o[k]) setOwn(o, k, x);
        todo.push(x);
      }
    }
  }
  return swap(root);
}
