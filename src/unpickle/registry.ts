/**
 * What a family's decoding handlers may ask of the running decoder, and what they provide. The
 * decoding machine knows no type family: it asks the handler registered for a global (see
 * src/family.ts and src/families.ts) what the global means.
 */
import type { Tuple } from '../python/values.js';
import type { UnpicklingErrorCode } from '../errors.js';
import type { Limits } from './options.js';
import type { ByteSource } from '../bytes/source.js';

/** What a handler may ask of the running decoder. */
export interface DecodeContext {
  /** True when decoding with `lossless: true`. */
  readonly lossless: boolean;
  /** Protocol announced by the stream's PROTO opcode (0 when absent). */
  readonly protocol: number;
  /** Byte offset of the opcode being executed. */
  readonly offset: number;
  /** Name of the opcode being executed. */
  readonly opcode: string;
  /** Python 2 `str` decoding option in force. */
  readonly encoding: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  /** Convert a decoded Python int (number or bigint) to a JS number when exactly representable. */
  toInt(value: unknown): number | bigint;
  /** An UnpicklingError naming the current opcode and offset (code 'invalid-value' unless given). */
  error(message: string, code?: UnpicklingErrorCode): Error;
  /**
   * Read `n` raw bytes that follow the current opcode in the stream (joblib puts array payloads
   * there). Returns a view into the input, not a copy.
   */
  readRaw(n: number): Uint8Array;
  /**
   * Lazy mode (`load(path, {lazy: true})`): where `n` raw bytes lie in the file, skipped without
   * reading them; undefined when the input cannot be read again later (then use `readRaw`).
   */
  readRawLazy?(
    n: number,
  ): { readonly source: ByteSource; readonly offset: number; readonly length: number } | undefined;
  /** True when array and tensor payloads should live in SharedArrayBuffers (`sharedMemory` option). */
  readonly sharedMemory?: boolean;
  /** Decode one complete nested pickle that starts at the current stream position. */
  loadNested(): unknown;
  /**
   * Decode one complete pickle held in other bytes (an object array's `.npy` side file), with the same
   * options and limits; bytes after its STOP are ignored, as `pickle.load` on a file ignores them.
   */
  loadBytes?(data: Uint8Array): unknown;
  /** The resource limits in force (handlers that read side files or inflate data cap them by these). */
  readonly limits?: Readonly<Limits>;
  /** Read a sibling file by name (joblib < 0.10 `.npy` files); undefined when unavailable. */
  readSibling?(name: string): Uint8Array | undefined;
  /** A fresh dict in the current mode's representation (plain object or Map). */
  makeDict(entries: Iterable<readonly [unknown, unknown]>): unknown;
  /**
   * Resolve `module.name` exactly as a GLOBAL opcode would (name mapping, aliases, refusal of
   * dangerous globals, the families' handlers); returns the value a GLOBAL pushes.
   */
  resolveGlobal(module: string, name: string): unknown;
  /**
   * `cls.__new__(cls, *args, **kwargs)` exactly as a NEWOBJ / NEWOBJ_EX opcode would do it (the
   * class's handler, or an inert PyObject). `copyreg._reconstructor` and `functools.partial(cls.__new__,
   * …)` use it for objects pickled at protocols 0-3.
   */
  newObject?(cls: unknown, args: Tuple, kwargs?: Map<unknown, unknown>): unknown;
  /** `callable(*args)` exactly as a REDUCE opcode would do it (policy, handler, or an inert PyObject). */
  reduce?(callable: unknown, args: Tuple): unknown;
}

/** How a handler rebuilds the values of one global. Every member is optional. */
export interface GlobalHandler {
  /** `REDUCE`: the value of `callable(*args)`. */
  call?(args: Tuple, ctx: DecodeContext): unknown;
  /** `NEWOBJ`/`NEWOBJ_EX`: the value of `cls.__new__(cls, *args, **kwargs)`; falls back to `call`. */
  construct?(args: Tuple, kwargs: Map<unknown, unknown> | undefined, ctx: DecodeContext): unknown;
  /** A bare reference to the global (not called): defaults to a `PyGlobal`. */
  reference?(ctx: DecodeContext): unknown;
}

/**
 * Objects that want `BUILD` (Python's `__setstate__`) implement this symbol. The return value, when
 * not undefined, replaces the object on the stack (joblib array wrappers become arrays this way).
 */
export const SET_STATE: unique symbol = Symbol('picklejar.setState');

export interface SetStateable {
  [SET_STATE](state: unknown, ctx: DecodeContext): unknown;
}

export function hasSetState(value: unknown): value is SetStateable {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<SetStateable>)[SET_STATE] === 'function'
  );
}

/**
 * Values a handler returns that Python can call (a `functools.partial`): REDUCE with such a value as
 * the callable asks it for the result instead of refusing a callable that is not a global.
 */
export const CALL: unique symbol = Symbol('picklejar.call');

export interface Callable {
  [CALL](args: Tuple, ctx: DecodeContext): unknown;
}

export function isCallable(value: unknown): value is Callable {
  return (
    value !== null && typeof value === 'object' && typeof (value as Partial<Callable>)[CALL] === 'function'
  );
}

/** Register one handler under several names (numpy 1 and 2 spell the same function two ways). */
export type Register = (names: string | readonly string[], handler: GlobalHandler) => void;

/**
 * Build a family's `globals` table with a `register` function.
 * @example
 * const globals = handlerTable((register) => register(['a.f', 'b.f'], { call: (args) => args[0] }));
 */
export function handlerTable(fill: (register: Register) => void): Record<string, GlobalHandler> {
  const table: Record<string, GlobalHandler> = Object.create(null) as Record<string, GlobalHandler>;
  fill((names, handler) => {
    for (const name of typeof names === 'string' ? [names] : names) table[name] = handler;
  });
  return { ...table };
}
