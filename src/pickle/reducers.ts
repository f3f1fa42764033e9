/**
 * The reducer interface: how a JS value that is not core data (a stdlib value, a numpy array, a user
 * class) tells the writer which Python object to rebuild. It is the writer-side twin of Python's
 * `__reduce_ex__`: a callable (or class), its arguments, and what follows the object (list items,
 * dict items, BUILD state).
 *
 * Families (src/family.ts) and users implement `Reducer`; the writer asks reducers in order and uses
 * the first `Reduction` returned. This file is a stable contract: keep additions backward compatible.
 *
 * Typing of values inside a Reduction: write Python ints as `bigint` and Python floats as `PyFloat`
 * (or plain `number`s when the encoder runs with `lossless: true`): in the default mode an integral
 * `number` becomes a Python int. Strings are data strings (written again at each occurrence) unless
 * wrapped in `PyName`, which marks an interned name (attribute names, dict keys Python shares):
 * written once per stream and referenced afterwards, as CPython does for interned strings.
 */
import { PyGlobal } from '../python/values.js';

/** How the object is created. */
export type ReductionKind =
  /** `callable(*args)`: REDUCE. */
  | 'reduce'
  /**
   * `cls.__new__(cls, *args)`: NEWOBJ at protocol >= 2. Below 2, as CPython: with no args
   * `copyreg._reconstructor(cls, object, None)`, else `copyreg.__newobj__(cls, *args)` (REDUCE).
   */
  | 'newobj'
  /**
   * `cls.__new__(cls, *args, **kwargs)`: NEWOBJ_EX at protocol >= 4; protocols 2-3 use CPython's
   * `functools.partial(cls.__new__, cls, *args, **kwargs)()` form, below 2 `copyreg.__newobj_ex__`.
   */
  | 'newobj_ex';

/** What the writer emits for one value (Python's `__reduce__` tuple, made explicit). */
export interface Reduction {
  /**
   * The callable (kind 'reduce') or the class ('newobj', 'newobj_ex'). A nested Reduction stands for
   * a callable that is itself reduced, e.g. a bound method `getattr(zoneinfo.ZoneInfo, '_unpickle')`.
   */
  readonly callable: PyGlobal | Reduction;
  readonly kind: ReductionKind;
  /** Positional arguments, written as a tuple (a `Tuple` instance is written as that very tuple, memo included). */
  readonly args: readonly unknown[];
  /**
   * 'newobj_ex' below protocol 4 only: the class whose `__new__` CPython's `partial(X.__new__, cls, …)`
   * form names (the class defining `__new__`, often `builtins.object`); default: the class itself,
   * which Python resolves to the same method.
   */
  readonly newOwner?: PyGlobal;
  /** Keyword arguments ('newobj_ex' only); keys are written as interned names. */
  readonly kwargs?: ReadonlyMap<string, unknown>;
  /**
   * BUILD state, written after the items when not undefined. A Map or plain object is written as a
   * dict whose keys are interned names (an instance `__dict__`); a `(dict | null, dict)` Tuple as the
   * `(__dict__, slots)` pair with the same rule.
   */
  readonly state?: unknown;
  /** Items appended after the object (APPEND/APPENDS, batched like CPython does for iterators). */
  readonly listitems?: Iterable<unknown>;
  /** Pairs set after the object (SETITEM/SETITEMS, batched like CPython does for iterators). */
  readonly dictitems?: Iterable<readonly [unknown, unknown]>;
}

/** What a reducer may know about the running encode. */
export interface ReduceContext {
  /** The protocol being written (0-5): some classes pickle differently below 2 or 4, or at 5. */
  readonly protocol: number;
  /** True when `lossless: true` (every JS number is a float, every bigint an int). */
  readonly lossless: boolean;
  /** A PicklingError naming the path of the value being written. */
  error(message: string): Error;
}

/** Returns how to pickle `value`, or undefined when `value` is not this reducer's. */
export type Reducer = (value: unknown, ctx: ReduceContext) => Reduction | undefined;

/** A Python float whatever the encoder's mode (in the default mode an integral `number` is an int). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * A str that Python shares (an interned identifier: attribute names, keyword names, field names).
 * The writer memoizes it by value: the first occurrence is written, later ones are memo references.
 */
export class PyName {
  constructor(readonly value: string) {}
}

/** Shorthand for a REDUCE of `module.name(*args)`. */
export function reduceCall(
  module: string,
  name: string,
  args: readonly unknown[],
  extra?: Partial<Reduction>,
): Reduction {
  return { callable: new PyGlobal(module, name), kind: 'reduce', args, ...extra };
}

/**
 * A value written as `reduction` (memoized by this wrapper's identity): lets a reducer place a
 * reduced object inside another reduction's arguments or state, or share one such object between
 * two places. Its callable is trusted like a reducer's.
 */
export class Reduced {
  constructor(readonly reduction: Reduction) {}
}
