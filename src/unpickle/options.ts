import type { Family } from '../family.js';

/** Resource limits. Every breach is an UnpicklingError naming the limit. */
export interface Limits {
  /** Largest input accepted, in bytes (also the cap on decompressed joblib streams). Default 4 GiB. */
  readonly maxInputBytes: number;
  /** Largest single object (length-prefixed str, bytes, LONG4, frame; protocol-0 STRING/UNICODE lines), in bytes. Default 4 GiB. */
  readonly maxObjectBytes: number;
  /** Deepest MARK nesting. Default 10 000 (CPython's own writer never nests more than its recursion limit). */
  readonly maxDepth: number;
  /** Most memo entries. Default 2^26. */
  readonly maxMemo: number;
  /** Most items on the value stack. Default 2^26. */
  readonly maxStack: number;
  /** Most opcodes in one pickle. Default 2^32. */
  readonly maxOpcodes: number;
  /** Most digits in a text INT/LONG (CPython's int_max_str_digits is 4300). Default 4300. */
  readonly maxIntDigits: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxInputBytes: 2 ** 32,
  maxObjectBytes: 2 ** 32,
  maxDepth: 10_000,
  maxMemo: 2 ** 26,
  maxStack: 2 ** 26,
  maxOpcodes: 2 ** 32,
  maxIntDigits: 4300,
});

/** A user constructor for a global: called with the REDUCE/NEWOBJ arguments (and NEWOBJ_EX kwargs). */
export type Constructor = (args: unknown[], kwargs?: Map<unknown, unknown>) => unknown;

/** Options of `loads`, `loadsAll` and `load`. */
export interface LoadOptions {
  /**
   * Decode so that `dumps(loads(x, {lossless: true}), {allowGlobals: true})` gives Python back an equal
   * value of the same types: every int is a bigint, every dict a Map, tuples/bytearrays/frozensets keep
   * their classes. Default false (safe ints as numbers, string-keyed dicts as plain objects).
   */
  readonly lossless?: boolean;
  /** How Python 2 `str` (STRING opcodes) decode, as in Python's `pickle.loads(encoding=)`. Default 'ascii'. */
  readonly encoding?: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  /** Resolves PERSID/BINPERSID ids (Python's `persistent_load`). Without it such pickles are refused. */
  readonly persistentLoad?: (pid: unknown) => unknown;
  /** The copyreg extension registry for EXT1/EXT2/EXT4: code → [module, name]. */
  readonly extensions?: Readonly<Record<number, readonly [module: string, name: string]>>;
  /** Protocol-5 out-of-band buffers, consumed in order by NEXT_BUFFER. */
  readonly buffers?: Iterable<Uint8Array>;
  /**
   * Your own constructors by `module.name` (after Python 2 name mapping and `moduleAliases`). A function
   * is called with the arguments; a GlobalHandler object gives full control (see registry.ts).
   */
  readonly constructors?: Readonly<Record<string, Constructor | import('./registry.js').GlobalHandler>>;
  /** Renamed modules: `{ 'old.pkg': 'new.pkg' }` maps `old.pkg` and `old.pkg.*`. */
  readonly moduleAliases?: Readonly<Record<string, string>>;
  /** What to do with globals no handler knows: keep them as inert PyObject/PyGlobal values (default) or refuse. */
  readonly unknownGlobals?: 'inert' | 'error';
  /**
   * Globals that exist to run code (os.system, subprocess.*, builtins.eval, ...) are refused by default.
   * 'inert' decodes them as inert references instead (nothing is ever executed either way).
   */
  readonly dangerousGlobals?: 'error' | 'inert';
  /**
   * joblib's `mmap_mode` analogue for `load(path)`: arrays and tensors whose bytes lie uncompressed in
   * the file (uncompressed joblib, .npy, stored .npz entries, torch storages) are read from the file
   * when first used, then kept. The file must not change while such values are alive. Compressed
   * files cannot be read this way and are decoded eagerly. No effect on `loads(bytes)`.
   */
  readonly lazy?: boolean;
  /**
   * Place array and tensor payloads in SharedArrayBuffers, so they can be posted to worker threads
   * without a copy (the Node answer to joblib's memory shared between processes).
   */
  readonly sharedMemory?: boolean;
  /** Resource limits; unspecified fields keep their defaults. */
  readonly limits?: Partial<Limits>;
  /**
   * Your own families (src/family.ts), used after the built-in ones: their handlers rebuild your
   * classes, their rules join the policy. The same list works for `dumps` and `scan`.
   */
  readonly families?: readonly Family[];
}
