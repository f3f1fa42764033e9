/**
 * Over-allocation of large lists, one of the decoder's performance mechanisms.
 *
 * Why: APPENDS fills a list 1000 items at a time; a JS array grown step by step is copied into a
 * fresh, larger store again and again (~28 ns per element here, fresh pages each time): ints_1m spent
 * a third of its decode in it. So a list past OVERALLOCATE_FROM items gets its length set ahead and
 * its real length kept here.
 *
 * Invariant (tested by test/decoder-mechanisms.test.ts): nothing outside the decoding loop ever sees
 * an over-allocated list. Every handler call goes through the machine's sync(), which trims; APPEND,
 * SETITEM(S) on a list and STOP trim too; so a handler, a hook, an error path and the caller all see
 * real lengths.
 *
 * `reserved` is the length last set ahead: after a trim V8 keeps the store (spare room below 2x), so
 * the next APPENDS reuses it instead of reallocating (a list read by a handler between batches, 50k
 * datetimes with one REDUCE each, was reallocated every batch: 43 % of its decode).
 */

/** Lists at least this long grow by over-allocation; below it V8 grows them well. */
export const OVERALLOCATE_FROM = 16384;
/** At most this many spare slots per growth step (64 MB of pointers), however long the list. */
export const OVERALLOCATE_MAX = 1 << 23;

export class ListGrowth {
  /** Lists currently longer than their content → their real length. */
  private grown: Map<unknown[], number> | undefined;
  private reserved: Map<unknown[], number> | undefined;

  /** True while some list is over-allocated (the machine trims before anything else can look). */
  get pending(): boolean {
    return this.grown !== undefined;
  }

  /** Give every over-allocated list its real length. */
  trim(): void {
    const grown = this.grown;
    if (grown === undefined) return;
    for (const [list, n] of grown) list.length = n;
    this.grown = undefined;
  }

  /** Forget everything (a new pickle starts). */
  reset(): void {
    this.grown = undefined;
    this.reserved = undefined;
  }

  /** APPENDS of stack[from..to) onto a plain list, over-allocating large ones. */
  append(target: unknown[], stack: unknown[], from: number, to: number): void {
    let n = this.grown?.get(target) ?? target.length;
    const need = n + (to - from);
    if (need > target.length && need > OVERALLOCATE_FROM) {
      // Twice the need at most: more would make V8 shrink the store when a handler trims it.
      // Within the room reserved before a trim, plain appends fill the kept store.
      const ahead = this.reserved?.get(target);
      if (ahead === undefined || need > ahead) {
        const length = need + Math.min(n, OVERALLOCATE_MAX);
        target.length = length;
        (this.reserved ??= new Map()).set(target, length);
        (this.grown ??= new Map()).set(target, n);
      }
    }
    // Stores by index, cheaper than push per element (bench/micro.mjs).
    for (let i = from; i < to; i++) target[n++] = stack[i];
    if (this.grown?.has(target)) this.grown.set(target, n);
  }
}
