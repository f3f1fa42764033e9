/** Options of `dumps` / `dump`. */
import type { PickleBuffer } from '../python/values.js';
import type { Reducer } from './reducers.js';
import type { Family } from '../family.js';

export type Protocol = 0 | 1 | 2 | 3 | 4 | 5;

export interface DumpOptions {
  /** Pickle protocol, 0-5 (default 4, Python 3.8-3.13's default). A negative value means 5, as in Python. */
  protocol?: Protocol | number;
  /**
   * Allow globals outside the safe subset: bare `PyGlobal` values and decoded foreign objects
   * (`PyObject`). Off by default, so only builtin data, stdlib value types, numpy arrays and your own
   * reducers' output are written.
   */
  allowGlobals?: boolean;
  /**
   * How JS numbers map to Python. Default (false): an integral number is an int, any other number a
   * float. true: every number is a float and every bigint an int: the inverse of
   * `loads(data, { lossless: true })`.
   */
  lossless?: boolean;
  /**
   * Python's `persistent_id`: called for every value before it is written; return a persistent id
   * (any picklable value; an ASCII string at protocol 0) to write `BINPERSID`/`PERSID` instead, or
   * undefined (or null) to pickle the value normally.
   */
  persistentId?: (value: unknown) => unknown;
  /**
   * Python's `buffer_callback` (protocol 5): called with each `PickleBuffer`. As in Python, a falsy
   * return value (false, undefined, null, 0) means the buffer travels out of band — the callback
   * keeps it and the pickle holds `NEXT_BUFFER` (+ `READONLY_BUFFER`); a truthy value writes it in
   * band. Without a callback every buffer is written in band.
   */
  bufferCallback?: (buffer: PickleBuffer) => unknown;
  /**
   * Your reducers for your own classes, asked (in order) before the built-in families for every
   * object value that is not core data. Their callables are trusted (written without allowGlobals).
   */
  reducers?: readonly Reducer[];
  /**
   * Your own families (src/family.ts): their reducers are asked before the built-in families', and
   * their safe rules let the writer emit their globals without allowGlobals. The same list works
   * for `loads` and `scan`.
   */
  families?: readonly Family[];
  /** Map Python 3 names to Python 2 names at protocol <= 2 (Python's `fix_imports`, default true). */
  fixImports?: boolean;
  /**
   * Write each distinct string once and reference it afterwards (default false). CPython shares a str
   * only when it is the same object; JS strings have no identity, so by default only the strings
   * CPython always shares are shared: global names, attribute names, '' and one-character strings
   * below U+0100. Turn this on for smaller output with many repeated strings.
   */
  shareStrings?: boolean;
}
