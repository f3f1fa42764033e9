/**
 * Large lists are filled once, at their exact size: one of the decoder's performance mechanisms.
 *
 * Why: APPENDS fills a list 1000 items at a time and nothing says how long it will get. A JS array
 * grown step by step is copied into a fresh, larger store at each step, and a store past 128 KiB is
 * fresh memory from the OS: on the bench VM a fresh page costs ~10 µs (a new 8 MB array 25 ms), so
 * growing the 1M-item list of ints_1m touched ~32 MB and took 60 % of the decode (over-allocating
 * ahead, the previous scheme, still touched ~16 MB). So once a list passes COLLECT_FROM items, its
 * APPENDS batches are kept as they come (small arrays in V8's young generation, whose pages are
 * reused) and the list is filled once, at its exact length, when something may look at it.
 * Measured (bench/out, CPU ms): ints_1m decode 78 → 44, the same as msgpackr's `new Array(n)`.
 *
 * Invariant (tested by test/decoder-mechanisms.test.ts): nothing outside the decoding loop ever sees
 * a list with batches pending. Every handler call goes through the machine's sync(), which fills
 * them; APPEND, SETITEM(S) on a list and STOP fill too; so a handler, a hook, an error path and the
 * caller all see complete lists. Inside the loop no opcode reads a list's items or length (it only
 * moves references), except the fresh-list check, which only sees lists that never had batches.
 */

/** Lists at least this long collect their batches; below it V8 grows them well enough. */
export const COLLECT_FROM = 16384;

export class ListBatches {
  /** Lists with batches not yet in them → those batches, in order. */
  private waiting: Map<unknown[], unknown[][]> | undefined;

  /** True while some list has batches pending (the machine fills them before anything can look). */
  get pending(): boolean {
    return this.waiting !== undefined;
  }

  /** Put every pending batch into its list: one store of the exact final length per list. */
  fill(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    for (const [list, batches] of waiting) {
      let n = list.length;
      let total = n;
      for (const b of batches) total += b.length;
      // Setting the length first allocates the store once (growing by index or push would copy).
      list.length = total;
      for (const b of batches) for (let i = 0; i < b.length; i++) list[n++] = b[i];
    }
  }

  /** Forget everything (a new pickle starts). */
  reset(): void {
    this.waiting = undefined;
  }

  /** APPENDS of stack[from..to) onto a plain list. */
  append(target: unknown[], stack: unknown[], from: number, to: number): void {
    const batches = this.waiting?.get(target);
    if (batches !== undefined) batches.push(stack.slice(from, to));
    else if (target.length + (to - from) > COLLECT_FROM)
      (this.waiting ??= new Map()).set(target, [stack.slice(from, to)]);
    else {
      // Stores by index, cheaper than push per element (bench/micro.mjs).
      let n = target.length;
      for (let i = from; i < to; i++) target[n++] = stack[i];
    }
  }
}
