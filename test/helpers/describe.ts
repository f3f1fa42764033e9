/**
 * The TypeScript half of test/helpers/DESCRIPTION_FORMAT.md: turns a value decoded with
 * `loads(bytes, { lossless: true })` into the same JSON description `scripts/gen_fixtures.py` wrote for
 * the Python value, so tests compare the two with `toEqual`.
 *
 * Containers are walked with an explicit work stack (deep fixtures must not exhaust the JS stack);
 * ids are handed out in depth-first pre-order exactly as the Python side does. Family describers
 * (`describeStdlib`, `describeNumpy`) are asked first; they recurse through `child`.
 */
import {
  ByteArray,
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  Tuple,
  isPlainObject,
} from '../../src/python/values.js';
import { describeNumpy } from './describe-numpy.js';
import { describeStdlib } from './describe-stdlib.js';
import { describeTorch } from './describe-torch.js';
import { pyFloatRepr } from './pyfloat.js';

/** A description: a JSON object with a type tag `t` (see DESCRIPTION_FORMAT.md for the shapes). */
export type Desc = { readonly t: string; readonly [key: string]: unknown };

/** Describes a nested value with the shared identity bookkeeping. */
export type DescribeChild = ((value: unknown) => Desc) & {
  /** First visit of a container: `{ id }` (a fresh id); a repeat: `{ ref }`, a ready `{"t":"ref"}`. */
  track(obj: object): { id: number } | { ref: Desc };
};

type Slot = unknown[] | Record<string, unknown>;
type Task = { value: unknown; target: Slot; key: number | string } | { run: (stack: Task[]) => void };

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}

/**
 * Python's `json.dumps(d, sort_keys=True, separators=(',', ':'))` (ASCII escapes included): the key
 * by which set elements are ordered, so both languages must produce identical text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'string') return pyJsonString(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    const keys = Object.keys(rec)
      .filter((k) => rec[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${pyJsonString(k)}:${canonicalJson(rec[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: unsupported ${typeof value}`);
}

const SHORT_ESCAPES: Record<number, string> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};

function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return out + '"';
}

function compareCanonical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class Describer {
  private readonly ids = new Map<object, number>();
  private next = 0;
  readonly child: DescribeChild;

  constructor() {
    const child = ((value: unknown) => this.run(value)) as DescribeChild;
    child.track = (obj: object) => this.track(obj);
    this.child = child;
  }

  track(obj: object): { id: number } | { ref: Desc } {
    const seen = this.ids.get(obj);
    if (seen !== undefined) return { ref: { t: 'ref', id: seen } };
    return { id: this.fresh(obj) };
  }

  private fresh(obj?: object): number {
    const n = this.next++;
    if (obj !== undefined) this.ids.set(obj, n);
    return n;
  }

  run(value: unknown): Desc {
    const out: unknown[] = [undefined];
    const stack: Task[] = [{ value, target: out, key: 0 }];
    while (stack.length > 0) {
      const task = stack.pop() as Task;
      if ('run' in task) {
        task.run(stack);
        continue;
      }
      const d = this.one(task.value, stack);
      (task.target as Record<string | number, unknown>)[task.key] = d;
    }
    return out[0] as Desc;
  }

  /** Push tasks so that they are processed in array order. */
  private static schedule(stack: Task[], tasks: Task[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i] as Task);
  }

  private pairs(entries: Iterable<readonly [unknown, unknown]>, tasks: Task[]): unknown[][] {
    const out: unknown[][] = [];
    for (const [k, v] of entries) {
      const pair: unknown[] = [undefined, undefined];
      out.push(pair);
      tasks.push({ value: k, target: pair, key: 0 }, { value: v, target: pair, key: 1 });
    }
    return out;
  }

  private one(v: unknown, stack: Task[]): Desc {
    const family =
      describeStdlib(v, this.child) ?? describeNumpy(v, this.child) ?? describeTorch(v, this.child);
    if (family !== undefined) return family;
    switch (typeof v) {
      case 'boolean':
        return { t: 'bool', v };
      case 'bigint':
        return { t: 'int', v: v.toString() };
      case 'number':
        return { t: 'float', v: pyFloatRepr(v) };
      case 'string':
        return { t: 'str', v };
      case 'object':
        break;
      default:
        throw new Error(`describe: unsupported JS value of type ${typeof v}`);
    }
    if (v === null) return { t: 'none' };
    if (v instanceof ByteArray) return { t: 'bytearray', v: hex(v) };
    if (v instanceof Uint8Array) return { t: 'bytes', v: hex(v) };
    if (v instanceof Complex) return { t: 'complex', re: pyFloatRepr(v.re), im: pyFloatRepr(v.im) };
    if (v instanceof PyGlobal) return { t: 'global', v: v.qualifiedName };
    if (v instanceof PyRange)
      return { t: 'range', start: String(v.start), stop: String(v.stop), step: String(v.step) };
    if (v instanceof PySlice) {
      return { t: 'slice', start: this.run(v.start), stop: this.run(v.stop), step: this.run(v.step) };
    }
    if (v instanceof PickleBuffer) return { t: 'buffer', v: hex(v.data), readonly: v.readonly };
    if (v instanceof Tuple && v.length === 0) return { t: 'tuple', v: [] };
    if (v instanceof FrozenSet && v.size === 0) return { t: 'frozenset', v: [] };

    if (
      Array.isArray(v) ||
      v instanceof Map ||
      v instanceof Set ||
      isPlainObject(v) ||
      v instanceof PyObject
    ) {
      const tr = this.track(v);
      if ('ref' in tr) return tr.ref;
      const id = tr.id;
      const tasks: Task[] = [];
      let d: Desc;
      if (v instanceof PyObject) {
        d = this.object(v, id, tasks);
      } else if (Array.isArray(v)) {
        const items: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) tasks.push({ value: v[i], target: items, key: i });
        d = { t: v instanceof Tuple ? 'tuple' : 'list', id, v: items };
      } else if (v instanceof Map) {
        d = { t: 'dict', id, v: this.pairs(v, tasks) };
      } else if (v instanceof Set) {
        // Order is not data: sort the elements by their description made on its own (fresh ids, so it
        // does not depend on iteration order), then describe them in that order.
        const keyed = [...v].map((x) => [canonicalJson(new Describer().run(x)), x] as const);
        keyed.sort((a, b) => compareCanonical(a[0], b[0]));
        const items: unknown[] = new Array(keyed.length);
        keyed.forEach(([, x], i) => tasks.push({ value: x, target: items, key: i }));
        d = { t: v instanceof FrozenSet ? 'frozenset' : 'set', id, v: items };
      } else {
        // Default-mode string-keyed dict (a plain object); own keys include a literal "__proto__".
        const rec = v as Record<string, unknown>;
        d = {
          t: 'dict',
          id,
          v: this.pairs(
            Object.keys(rec).map((k) => [k, rec[k]] as const),
            tasks,
          ),
        };
      }
      Describer.schedule(stack, tasks);
      return d;
    }
    const name = (v as object).constructor?.name ?? 'null-prototype object';
    throw new Error(`describe: unsupported value (${name})`);
  }

  /** `{"t":"object"}`: children in the order args, kwargs, state, items, dictitems. */
  private object(v: PyObject, id: number, tasks: Task[]): Desc {
    const args: unknown[] = new Array(v.__args__.length);
    v.__args__.forEach((a, i) => tasks.push({ value: a, target: args, key: i }));
    const d: Record<string, unknown> = { t: 'object', id, cls: v.__class__.qualifiedName, args, state: null };
    if (v.__kwargs__ !== undefined) d['kwargs'] = this.pairs(v.__kwargs__, tasks);
    if (v.__state__ !== undefined) {
      tasks.push({ value: v.__state__, target: d, key: 'state' });
    } else {
      const attrs = Object.keys(v);
      if (attrs.length > 0) {
        // A string-keyed state dict was spread onto the object; Python describes that dict (with an id).
        // Its id is taken when this task runs, i.e. after the args subtrees, as in pre-order.
        tasks.push({
          run: (stack) => {
            const inner: Task[] = [];
            const pairs = this.pairs(
              attrs.map((k) => [k, v[k]] as const),
              inner,
            );
            d['state'] = { t: 'dict', id: this.fresh(), v: pairs };
            Describer.schedule(stack, inner);
          },
        });
      }
    }
    const items: unknown[] = [];
    if (v.__items__ !== undefined) {
      v.__items__.forEach((x, i) => tasks.push({ value: x, target: items, key: i }));
    }
    d['items'] = items;
    d['dictitems'] = v.__dictitems__ !== undefined ? this.pairs(v.__dictitems__, tasks) : [];
    return d as Desc;
  }
}

/** Describe a decoded value (lossless mode) as DESCRIPTION_FORMAT.md specifies. */
export function describe(value: unknown): Desc {
  return new Describer().run(value);
}

/**
 * The description of a default-mode value with integral floats read back as ints: default mode gives
 * Python ints as JS numbers, which the description calls floats. For values whose numbers are all ints.
 */
export function intsAsInts(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(intsAsInts);
  if (d === null || typeof d !== 'object') return d;
  const o = d as Record<string, unknown>;
  if (o['t'] === 'float' && typeof o['v'] === 'string' && /^-?\d+\.0$/.test(o['v']))
    return { ...o, t: 'int', v: o['v'].slice(0, -2) };
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, intsAsInts(v)]));
}
