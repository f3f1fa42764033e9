/**
 * The Python value model: JS classes for the Python types that have no exact JS counterpart.
 * Everything here is inert data; nothing holds a reference to code.
 */

/** A Python `tuple`. It is a real JS array (read it like one); the class keeps it distinct from `list`. */
export class Tuple<T = unknown> extends Array<T> {
  /** Build a tuple from items (`Tuple.of` would treat one numeric argument as a length). */
  static from_<T>(items: readonly T[]): Tuple<T> {
    const n = items.length;
    // Sized up front, then index stores: `push` on an Array subclass takes V8's generic path (8x
    // slower), and growing from empty leaves ~17 slots of slack (a 1-tuple took 184 bytes).
    const t = n === 0 ? new Tuple<T>() : (new Tuple<T>(n) as Tuple<T>);
    for (let i = 0; i < n; i++) t[i] = items[i] as T;
    return t;
  }

  /**
   * A tuple of `n` slots to fill by index (exact size; see from_).
   * @example
   * const t = Tuple.sized<number>(2);
   * t[0] = 1;
   * t[1] = 2; // (1, 2)
   */
  static sized<T>(n: number): Tuple<T> {
    return n === 0 ? new Tuple<T>() : (new Tuple<T>(n) as Tuple<T>);
  }
}
// Derived arrays (map, filter, slice) are plain arrays: a mapped tuple is no longer a pickled tuple.
// A data property, not a `static get`: with an accessor, V8 aborted every optimisation of code that
// constructs tuples (the decoder loop ran unoptimised on tuple-heavy pickles: 100k 1-tuples took
// 52 ms instead of 6; bench graph_100k).
Object.defineProperty(Tuple, Symbol.species, { value: Array, configurable: true });

/**
 * Make a tuple: `tuple(1, 2)` is Python's `(1, 2)`.
 * @example
 * dumps({ point: tuple(1, 2) }); // {'point': (1, 2)} in Python
 */
export function tuple<T>(...items: T[]): Tuple<T> {
  return Tuple.from_(items);
}

/** A Python `bytearray` (a mutable `Uint8Array`); plain `Uint8Array` is Python `bytes`. */
export class ByteArray extends Uint8Array {}
// (A data property for the same reason as Tuple's.)
Object.defineProperty(ByteArray, Symbol.species, { value: Uint8Array, configurable: true });

/** A Python `frozenset`; plain `Set` is Python `set`. */
export class FrozenSet<T = unknown> extends Set<T> {}

/** A reference to a Python global (a class or function named `module.name`), never resolved to code. */
export class PyGlobal {
  #qualified: string | undefined;
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  /** `module.name`, as Python prints a qualified name. */
  get qualifiedName(): string {
    // Cached: handlers ask for it once per object they build (a new string each time otherwise).
    return (this.#qualified ??= `${this.module}.${this.name}`);
  }
  toString(): string {
    return this.qualifiedName;
  }
}

/** How an inert object was created in the pickle, so the writer can re-emit it the same way. */
export type PyObjectKind = 'reduce' | 'newobj' | 'newobj_ex' | 'inst' | 'obj';

/**
 * An instance of a Python class that picklejar does not rebuild: its class, the arguments it was
 * created with, and its state. When the state (`BUILD`) is a string-keyed dict, the entries become
 * own enumerable properties, so `model.coef_` reads the attribute; the metadata is read through
 * `__dunder__` accessors on the prototype, so that `Object.keys(obj)` lists only attributes.
 *
 * The metadata lives in private fields: seven `Object.defineProperty` calls per instance made the
 * objects slow to build (7 µs each; 50k objects decoded 8x slower than CPython, see BENCHMARKS.md).
 */
export class PyObject {
  #cls: PyGlobal;
  #kind: PyObjectKind;
  #args: Tuple;
  #kwargs: Map<unknown, unknown> | undefined;
  #state: unknown = undefined;
  #items: unknown[] | undefined = undefined;
  #dictitems: Map<unknown, unknown> | undefined = undefined;
  [attribute: string]: unknown;

  constructor(cls: PyGlobal, kind: PyObjectKind, args: Tuple, kwargs?: Map<unknown, unknown>) {
    this.#cls = cls;
    this.#kind = kind;
    this.#args = args;
    this.#kwargs = kwargs;
  }

  /** The class (or callable) that made this object. */
  get __class__(): PyGlobal {
    return this.#cls;
  }
  /** How the pickle created it (REDUCE, NEWOBJ, ...), so the writer can re-emit it the same way. */
  get __kind__(): PyObjectKind {
    return this.#kind;
  }
  set __kind__(kind: PyObjectKind) {
    this.#kind = kind;
  }
  /** The arguments it was created with. */
  get __args__(): Tuple {
    return this.#args;
  }
  set __args__(args: Tuple) {
    this.#args = args;
  }
  /** Keyword arguments of NEWOBJ_EX, if any. */
  get __kwargs__(): Map<unknown, unknown> | undefined {
    return this.#kwargs;
  }
  set __kwargs__(kwargs: Map<unknown, unknown> | undefined) {
    this.#kwargs = kwargs;
  }
  /** State that is not a plain attribute dict (e.g. a tuple, or `(dict, slots)`); undefined otherwise. */
  get __state__(): unknown {
    return this.#state;
  }
  set __state__(state: unknown) {
    this.#state = state;
  }
  /** Items added with APPEND(S) (list subclasses, `__reduce__` listitems). */
  get __items__(): unknown[] | undefined {
    return this.#items;
  }
  set __items__(items: unknown[] | undefined) {
    this.#items = items;
  }
  /** Pairs added with SETITEM(S) (dict subclasses, `__reduce__` dictitems). */
  get __dictitems__(): Map<unknown, unknown> | undefined {
    return this.#dictitems;
  }
  set __dictitems__(items: Map<unknown, unknown> | undefined) {
    this.#dictitems = items;
  }

  /** `module.name` of the class (or callable) that made this object. */
  get __qualname__(): string {
    return this.#cls.qualifiedName;
  }

  /** The attribute dict as a Map (own enumerable properties). */
  attributes(): Map<string, unknown> {
    return new Map(Object.entries(this));
  }
}

/** Set an own data property even for keys such as `__proto__` (no prototype pollution). */
export function setOwn(target: object, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

/** Python `complex`. */
export class Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
  toString(): string {
    return `(${this.re}${this.im < 0 || Object.is(this.im, -0) ? '-' : '+'}${Math.abs(this.im)}j)`;
  }
}

/** Python `range(start, stop, step)`. */
export class PyRange {
  constructor(
    readonly start: number | bigint,
    readonly stop: number | bigint,
    readonly step: number | bigint,
  ) {}
}

/** Python `slice(start, stop, step)`. */
export class PySlice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}

/**
 * A protocol-5 buffer that reached the result without a consumer (a bare `pickle.PickleBuffer`).
 * In-band writable buffers decode as `ByteArray`, read-only ones as `Uint8Array`; this class is used
 * only for out-of-band buffers, so the writer can send them out-of-band again.
 */
export class PickleBuffer {
  constructor(
    readonly data: Uint8Array,
    readonly readonly: boolean,
  ) {}
}

/** Is `value` a plain JS object (the default-mode representation of a string-keyed dict)? */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Could `k` be a Python dict key or set element (hashable)? Mutable containers and tuples holding one are not. */
export function isHashable(k: unknown): boolean {
  if (k === null || typeof k !== 'object') return true;
  // A tuple is hashable when everything in it is (Python hashes the items): walk nested tuples with a
  // work list, not recursion (hand-made pickles nest tuples a million deep).
  if (k instanceof Tuple) {
    // Flat tuples (the usual keys) without allocating anything.
    let nested = false;
    for (let i = 0; i < k.length; i++) {
      const x = k[i];
      if (x instanceof Tuple) nested = true;
      else if (x !== null && typeof x === 'object' && !isHashableLeaf(x)) return false;
    }
    if (!nested) return true;
    const todo: unknown[] = [k];
    const seen = new Set<unknown>();
    while (todo.length > 0) {
      const t = todo.pop() as Tuple;
      if (seen.has(t)) continue;
      seen.add(t);
      for (let i = 0; i < t.length; i++) {
        const x = t[i];
        if (x instanceof Tuple) todo.push(x);
        else if (x !== null && typeof x === 'object' && !isHashableLeaf(x)) return false;
      }
    }
    return true;
  }
  return isHashableLeaf(k);
}

/**
 * Value classes whose Python counterpart cannot be hashed (numpy arrays, DataFrames) say so with
 * this symbol on their prototype, so the value model keeps one rule for dict keys and set members.
 */
export const UNHASHABLE: unique symbol = Symbol('picklejar.unhashable');

/** A non-tuple value: hashable unless it is a mutable container. */
function isHashableLeaf(k: object): boolean {
  if (k instanceof FrozenSet || k instanceof PyObject || k instanceof PyGlobal) return true;
  if (k instanceof ByteArray || Array.isArray(k) || k instanceof Map || k instanceof Set) return false;
  if (isPlainObject(k)) return false;
  if ((k as { [UNHASHABLE]?: unknown })[UNHASHABLE] === true) return false;
  return true; // other value classes (datetime, Decimal, ...) are immutable in Python
}

/**
 * How a JS number travels to Python in the default (not lossless) mode: a safe integer (|n| <= 2^53 - 1,
 * not -0) is an int; every other number (fractions, -0, ±inf, NaN, integral values past 2^53) a float.
 */
export function isIntNumber(x: number): boolean {
  return Number.isSafeInteger(x) && !Object.is(x, -0);
}
