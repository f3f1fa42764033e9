/**
 * The decoding machine's state and everything but its hot loop (src/unpickle/decoder.ts): the input
 * window, what handlers may ask (DecodeContext), global resolution under the policy, REDUCE/NEWOBJ/
 * BUILD semantics, and the cold opcodes as named `load*` methods, as CPython's pickle.py names its
 * handlers. Nothing here executes anything: globals are names, calls are recorded or handed to the
 * families' handlers.
 *
 * Input window. The loop reads `data[pos]` from one Uint8Array. For bytes in memory that is the whole
 * input. For a file or a decompressed stream (any size, past 4 GiB) it is a window of the stream:
 * `base` is the stream offset of `data[0]`, and the loop slides the window whenever fewer than AHEAD
 * bytes remain (at an opcode boundary, so every opcode of up to AHEAD bytes finds its argument whole).
 * Larger payloads ask `more()` for a window that holds them and re-run their opcode.
 */
import { PickleError, UnpicklingError, type UnpicklingErrorCode } from '../errors.js';
import { opcodeName } from '../opcodes.js';
import type { ByteSource } from '../bytes/source.js';
import { decodeAscii, decodeLatin1, decodeUtf8, TextError } from '../bytes/text.js';
import {
  escapeDecode,
  LiteralError,
  parsePyFloat,
  parsePyInt,
  rawUnicodeEscapeDecode,
} from '../bytes/literals.js';
import { IMPORT_MAPPING, NAME_MAPPING } from '../python/compat.js';
import {
  ByteArray,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  Tuple,
  isPlainObject,
  setOwn,
  type PyObjectKind,
} from '../python/values.js';
import type { Limits } from './options.js';
import type { Resolved } from './resolve.js';
import {
  CALL,
  SET_STATE,
  hasSetState,
  isCallable,
  type DecodeContext,
  type GlobalHandler,
} from './registry.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** Nested pickles (joblib object arrays) deeper than this are refused: real files nest one level. */
const MAX_NESTED = 32;

/** Bytes read per window from a file or stream. */
const WINDOW = 8 << 20;
/**
 * The loop slides the window when fewer bytes than this remain before its end. At least 264: the
 * opcodes with a one-byte length (SHORT_BINUNICODE, SHORT_BINBYTES, LONG1…) rely on it.
 */
const AHEAD = 1 << 20;

/** Bytes past `ahead` in the window read after a lazy payload (the loop then slides to full windows). */
const LAZY_WINDOW = 64 << 10;

/** Window sizes (tests make them small to exercise every boundary). */
export interface Windowing {
  readonly window: number;
  readonly ahead: number;
}

export interface Decoded {
  readonly value: unknown;
  /** Stream offset just past the STOP opcode. */
  readonly end: number;
}

/** A payload left in a file, read when first used (lazy mode). */
export interface LazyBytes {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
}

export abstract class MachineBase implements DecodeContext {
  readonly lossless: boolean;
  protocol = 0;
  /** Stream offset of the opcode being executed. */
  offset = 0;
  opcode = '';
  readonly encoding: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  /** Read position in the window; valid whenever a handler is running. */
  pos = 0;
  /** The input window (all of the input when it is in memory). */
  protected data: Uint8Array;
  protected view: DataView;
  /** Stream offset of `data[0]`. */
  protected base = 0;
  /** The whole input when it is not in memory (a file, a decompressed stream); undefined otherwise. */
  protected readonly source: ByteSource | undefined;
  /** Window index at which the loop slides the window (Infinity: the window is all there is). */
  protected refillAt = Infinity;
  protected readonly opts: Resolved;
  private globals = new Map<string, unknown>();
  private handlers = new Map<PyGlobal, GlobalHandler>();
  /** Globals that may be referenced but not called (numpy.memmap): the names as written. */
  private calledDanger: Map<PyGlobal, [string, string]> | undefined;
  protected readonly nested: number;
  protected readonly windowing: Windowing;
  readSibling?: (name: string) => Uint8Array | undefined;

  constructor(input: Uint8Array | ByteSource, opts: Resolved, nested = 0, windowing?: Windowing) {
    if (input instanceof Uint8Array) {
      this.data = input;
      this.source = undefined;
    } else if (input.inMemory) {
      this.data = input.read(0, input.size);
      this.source = undefined;
    } else {
      this.data = EMPTY;
      this.source = input;
    }
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.opts = opts;
    this.lossless = opts.lossless;
    this.encoding = opts.encoding;
    this.nested = nested;
    this.windowing = windowing ?? { window: WINDOW, ahead: AHEAD };
    if (this.windowing.ahead < 264 || this.windowing.window < this.windowing.ahead)
      throw new RangeError('bad windowing');
    if (opts.readSibling) this.readSibling = opts.readSibling;
  }

  // ---- the input window ----------------------------------------------------------------------

  /** Bytes of the stream from window index `pos` to its end. */
  protected remaining(pos: number): number {
    return this.source === undefined ? this.data.length - pos : this.source.size - this.base - pos;
  }

  /**
   * Load the window starting at stream offset `at` holding at least `need` bytes (or up to the end).
   * `size`: the window's length when `need` is less (a short one after a lazy payload, see readRawLazy).
   */
  private setWindow(at: number, need: number, size = this.windowing.window): void {
    const src = this.source as ByteSource;
    const previous = this.base;
    const length = Math.min(Math.max(need, size), src.size - at);
    const data = src.read(at, length);
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.base = at;
    this.refillAt = at + data.length >= src.size ? Infinity : data.length - this.windowing.ahead;
    if (at > previous && src.sequential === true) src.release?.(at);
  }

  /** Position the window at stream offset `at` (the loop's start, a nested pickle's end). */
  protected seek(at: number): void {
    if (this.source === undefined) {
      this.pos = at;
      return;
    }
    if (at >= this.base && at - this.base < this.data.length && at - this.base < this.refillAt)
      this.pos = at - this.base;
    else {
      this.setWindow(at, 0);
      this.pos = 0;
    }
  }

  /** The loop reached `refillAt`: start a new window at `pos` (an opcode boundary). */
  protected slide(pos: number): void {
    this.setWindow(this.base + pos, 0);
    this.pos = 0;
  }

  /**
   * Make window indices [from, to) readable in one window that starts at `from` (an opcode's start,
   * which the loop then runs again). False when the stream ends first (the caller reports truncation).
   */
  protected more(from: number, to: number): boolean {
    if (this.source === undefined || this.base + to > this.source.size) return false;
    this.setWindow(this.base + from, to - from);
    this.pos = 0;
    return true;
  }

  /** A payload at [start, start + n) of the window, as the value to keep (copied when windowed and small). */
  protected bytesAt(start: number, n: number): Uint8Array {
    return this.source !== undefined && n < this.windowing.window >> 1
      ? this.data.slice(start, start + n)
      : this.data.subarray(start, start + n);
  }

  // ---- DecodeContext -------------------------------------------------------------------------

  get limits(): Limits {
    return this.opts.limits;
  }

  get sharedMemory(): boolean {
    return this.opts.shared;
  }

  toInt(value: unknown): number | bigint {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw this.error(`expected an int, got ${describeType(value)}`);
  }

  error(message: string, code?: UnpicklingErrorCode): UnpicklingError {
    return new UnpicklingError(message, this.offset, this.opcode || undefined, code);
  }

  /**
   * `n` raw bytes that follow the current opcode (joblib's array payloads). In memory: a view of the
   * input. From a file or stream: a buffer of their own, read straight from the source past the
   * window (a multi-GB array is read once, into its final buffer).
   */
  readRaw(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0)
      throw this.error(`invalid raw payload length ${n}`, 'invalid-value');
    if (n > this.remaining(this.pos))
      throw this.error('pickle data was truncated (raw payload)', 'truncated');
    if (this.source === undefined && !this.opts.shared) {
      const out = this.data.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const out = this.opts.shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n);
    const inWindow = Math.min(n, this.data.length - this.pos);
    out.set(this.data.subarray(this.pos, this.pos + inWindow));
    if (inWindow < n) {
      const src = this.source as ByteSource;
      const at = this.base + this.pos + inWindow;
      if (src.readInto) src.readInto(at, out, inWindow, n - inWindow, true);
      else out.set(src.read(at, n - inWindow), inWindow);
    }
    this.seek(this.base + this.pos + n);
    return out;
  }

  /**
   * Lazy mode: the position of `n` raw bytes in a file, skipped without reading them; undefined when
   * the input cannot be read again later (bytes in memory, a decompressed stream).
   */
  readRawLazy(n: number): LazyBytes | undefined {
    const src = this.source;
    if (!this.opts.lazy || src === undefined || src.sequential === true) return undefined;
    if (!Number.isSafeInteger(n) || n < 0)
      throw this.error(`invalid raw payload length ${n}`, 'invalid-value');
    if (n > this.remaining(this.pos))
      throw this.error('pickle data was truncated (raw payload)', 'truncated');
    const offset = this.base + this.pos;
    const end = offset + n;
    if (end - this.base < this.data.length && end - this.base < this.refillAt) this.pos = end - this.base;
    else {
      // Past the window: read only a short one there. What follows a payload is usually a few
      // hundred bytes of opcodes and the next payload, and every fresh window costs page faults
      // (a full window per array made a lazy open of many arrays read 8 MiB each).
      this.setWindow(end, 0, Math.min(this.windowing.window, this.windowing.ahead + LAZY_WINDOW));
      this.pos = 0;
    }
    return { source: src, offset, length: n };
  }

  /** A Machine of the same kind over other input (nested pickles). */
  protected abstract spawn(
    input: Uint8Array | ByteSource,
    nested: number,
  ): MachineBase & { run(start: number): Decoded };

  loadNested(): unknown {
    if (this.nested >= MAX_NESTED) throw this.error(`nested pickles deeper than ${MAX_NESTED}`, 'limit');
    const inner = this.spawn(this.source ?? this.data, this.nested + 1);
    const { value, end } = inner.run(this.base + this.pos);
    this.seek(end);
    return value;
  }

  loadBytes(data: Uint8Array): unknown {
    if (this.nested >= MAX_NESTED) throw this.error(`nested pickles deeper than ${MAX_NESTED}`, 'limit');
    return this.spawn(data, this.nested + 1).run(0).value;
  }

  makeDict(entries: Iterable<readonly [unknown, unknown]>): unknown {
    const list = [...entries];
    if (!this.lossless && list.every(([k]) => typeof k === 'string')) {
      const obj: Record<string, unknown> = {};
      for (const [k, v] of list) setOwn(obj, k as string, v);
      return obj;
    }
    return new Map(list);
  }

  // ---- globals -------------------------------------------------------------------------------

  /** Resolve `module.name` through name mapping, aliases and policy; returns the value to push. */
  resolveGlobal(module: string, name: string): unknown {
    const key = module + '\n' + name;
    const cached = this.globals.get(key);
    if (cached !== undefined) return cached;
    // Python cannot import '' or 'a..b', nor get an attribute named '' (ValueError / AttributeError).
    if (module.split('.').includes('') || name.split('.').includes('')) {
      throw this.error(
        `invalid global ${JSON.stringify(module)} ${JSON.stringify(name)}: empty module or attribute name`,
      );
    }
    let m = module;
    let n = name;
    if (this.protocol < 3) {
      const mapped = NAME_MAPPING.get(m + ' ' + n);
      if (mapped !== undefined) {
        const sp = mapped.indexOf(' ');
        m = mapped.slice(0, sp);
        n = mapped.slice(sp + 1);
      } else {
        const mm = IMPORT_MAPPING.get(m);
        if (mm !== undefined) m = mm;
      }
    }
    for (const [from, to] of this.opts.aliases) {
      if (m === from) {
        m = to;
        break;
      }
      if (m.startsWith(from + '.')) {
        m = to + m.slice(from.length);
        break;
      }
    }
    const full = m + '.' + n;
    const handler = this.opts.constructors?.get(full) ?? this.opts.handlers.get(full);
    // getattr is policed by its handler, which resolves getattr(cls, 'name') as the global
    // `cls.name` through this very function (scan grades it the same way).
    const policed =
      this.opts.dangerousGlobals === 'error' && !(full === 'builtins.getattr' && handler !== undefined);
    if (policed) this.refuseIfDangerous(module, name, m, n, 'referenced');
    if (!handler && this.opts.unknownGlobals === 'error') {
      throw this.error(`unknown global ${m}.${n} (unknownGlobals is 'error')`, 'unknown-global');
    }
    const g = new PyGlobal(m, n);
    if (policed && this.opts.policy.classify(m, n, 'called').severity === 'dangerous') {
      (this.calledDanger ??= new Map()).set(g, [module, name]);
    }
    let value: unknown = g;
    if (handler) {
      this.handlers.set(g, handler);
      if (handler.reference) value = handler.reference(this);
    }
    this.globals.set(key, value);
    return value;
  }

  /**
   * Refuse a global the policy grades dangerous, as written or after renaming (scan reads the same
   * table the same way). `use` 'called' adds the rules about calling (numpy.memmap creates files).
   */
  private refuseIfDangerous(
    module: string,
    name: string,
    m: string,
    n: string,
    use: 'referenced' | 'called',
  ): void {
    const policy = this.opts.policy;
    let v = policy.classify(m, n, use);
    if (v.severity !== 'dangerous' && (m !== module || n !== name)) v = policy.classify(module, name, use);
    if (v.severity === 'dangerous') {
      throw this.error(
        `refusing global ${m}.${n}${use === 'called' ? ' (called)' : ''}: ${v.reason}; Python would ` +
          `run or reach it when loading this pickle (pass dangerousGlobals: 'inert' to decode it as an inert reference)`,
        'dangerous-global',
      );
    }
  }

  private checkCall(callable: unknown): void {
    const written = this.calledDanger?.get(callable as PyGlobal);
    if (written !== undefined) {
      const g = callable as PyGlobal;
      this.refuseIfDangerous(written[0], written[1], g.module, g.name, 'called');
    }
  }

  private handlerOf(callable: unknown): GlobalHandler | undefined {
    return callable instanceof PyGlobal ? this.handlers.get(callable) : undefined;
  }

  /** REDUCE / INST / OBJ: `callable(*args)`. */
  protected call(callable: unknown, args: Tuple, kind: PyObjectKind): unknown {
    if (this.calledDanger !== undefined) this.checkCall(callable);
    const h = this.handlerOf(callable);
    if (h?.call) return h.call(args, this);
    if (h?.construct && kind !== 'reduce') return h.construct(args, undefined, this);
    if (kind === 'reduce' && isCallable(callable)) return callable[CALL](args, this);
    if (!(callable instanceof PyGlobal)) {
      throw this.error(`the callable is ${describeType(callable)}, not a global`, 'stack');
    }
    return new PyObject(callable, kind, args);
  }

  reduce(callable: unknown, args: Tuple): unknown {
    return this.call(callable, args, 'reduce');
  }

  newObject(cls: unknown, args: Tuple, kwargs?: Map<unknown, unknown>): unknown {
    return this.construct(cls, args, kwargs, kwargs !== undefined);
  }

  /** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
  protected construct(
    cls: unknown,
    args: unknown,
    kwargs: Map<unknown, unknown> | undefined,
    ex: boolean,
  ): unknown {
    if (!(args instanceof Tuple))
      throw this.error(`NEWOBJ arguments must be a tuple, got ${describeType(args)}`, 'stack');
    if (!(cls instanceof PyGlobal))
      throw this.error(`NEWOBJ class must be a global, got ${describeType(cls)}`, 'stack');
    if (this.calledDanger !== undefined) this.checkCall(cls);
    const h = this.handlers.get(cls);
    if (h?.construct) return h.construct(args, kwargs, this);
    if (h?.call && !kwargs) return h.call(args, this);
    return new PyObject(cls, ex ? 'newobj_ex' : 'newobj', args, kwargs);
  }

  /** BUILD: apply `state` to `obj`; returns the value that replaces obj on the stack. */
  protected build(obj: unknown, state: unknown): unknown {
    if (hasSetState(obj)) {
      const r = obj[SET_STATE](state, this);
      return r === undefined ? obj : r;
    }
    if (obj === null || typeof obj !== 'object') {
      throw this.error(`cannot BUILD a ${describeType(obj)}`, 'stack');
    }
    if (obj instanceof PyGlobal && this.opts.dangerousGlobals === 'error') {
      // Python would set attributes on the class or function itself (a known gadget): scan flags it too.
      throw this.error(
        `refusing BUILD on the global ${obj.qualifiedName}: it sets attributes on the imported object itself ` +
          `(pass dangerousGlobals: 'inert' to keep the state inert)`,
        'dangerous-global',
      );
    }
    if (obj instanceof PyObject) {
      applyPyObjectState(obj, state);
      return obj;
    }
    // Anything else (a builtin container, a global, a handler's value without SET_STATE): keep the
    // state aside. Spreading it could collide with JS members (`length`, `size`) of the object.
    if (state === null) return obj;
    const previous = Object.getOwnPropertyDescriptor(obj, '__state__');
    if (previous && !previous.configurable) throw this.error(`cannot BUILD a ${describeType(obj)}`, 'stack');
    Object.defineProperty(obj, '__state__', {
      value: state,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return obj;
  }

  // ---- errors --------------------------------------------------------------------------------

  /** An error at the opcode that starts at window index `opPos`. */
  protected fail(message: string, opPos: number, code: number, kind?: UnpicklingErrorCode): UnpicklingError {
    return new UnpicklingError(message, this.base + opPos, code < 0 ? undefined : opcodeName(code), kind);
  }

  protected underflow(opPos: number, code: number): UnpicklingError {
    return this.fail('unpickling stack underflow', opPos, code, 'stack');
  }

  protected truncated(opPos: number, code: number, detail = ''): UnpicklingError {
    return this.fail(`pickle data was truncated${detail}`, opPos, code, 'truncated');
  }

  protected invalidKey(opPos: number, code: number): UnpicklingError {
    return new UnpicklingError(
      code >= 0x20 && code < 0x7f
        ? `invalid load key, '${String.fromCharCode(code)}'`
        : `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
      this.base + opPos,
      undefined,
      'bad-opcode',
    );
  }

  /** A length-prefixed payload of n bytes: within the limit (checked before anything is read). */
  protected checkLimit(n: number, opPos: number, code: number): void {
    const max = this.opts.limits.maxObjectBytes;
    if (n > max) {
      throw this.fail(
        `object of ${n} bytes exceeds limits.maxObjectBytes (${max}); raise it to allow more`,
        opPos,
        code,
        'limit',
      );
    }
  }

  /** An 8-byte little-endian length at window index pos (FRAME, *8 opcodes). */
  protected length8(pos: number, opPos: number, code: number): number {
    if (8 > this.data.length - pos) throw this.truncated(opPos, code);
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getUint32(pos + 4, true);
    if (hi >= 0x200000) throw this.fail('length prefix exceeds 2**53', opPos, code, 'limit');
    return hi * 0x100000000 + lo;
  }

  /** A str payload of the window. */
  protected str(start: number, end: number, opPos: number, code: number): string {
    try {
      return decodeUtf8(this.data, start, end);
    } catch (e) {
      if (e instanceof TextError)
        throw this.fail(`invalid UTF-8 in str: ${e.message}`, opPos, code, 'invalid-value');
      throw e;
    }
  }

  /** A Python 2 `str` (STRING opcodes) under the `encoding` option. */
  protected py2string(raw: Uint8Array, opPos: number, code: number): unknown {
    const enc = this.opts.encoding;
    if (enc === 'bytes') return raw;
    try {
      if (enc === 'latin1') return decodeLatin1(raw, 0, raw.length);
      if (enc === 'ascii') return decodeAscii(raw, 0, raw.length);
      return decodeUtf8(raw, 0, raw.length);
    } catch (e) {
      throw this.fail(
        `cannot decode Python 2 str with encoding '${enc}': ${(e as Error).message}; pickles from Python 2 ` +
          `that carry binary data in str (numpy arrays, datetimes) need encoding: 'latin1' or 'bytes'`,
        opPos,
        code,
        'invalid-value',
      );
    }
  }

  protected int(v: bigint): number | bigint {
    return this.lossless ? v : v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }

  // ---- the cold opcodes (CPython's load_* handlers): each reads from `this.pos` --------------------

  /**
   * The text line at `this.pos` (protocol-0 arguments), without its newline; moves past it. From a
   * file or stream the window grows until the line is whole.
   */
  protected readLine(opPos: number, code: number): Uint8Array {
    for (;;) {
      const nl = this.data.indexOf(0x0a, this.pos);
      if (nl >= 0) {
        const line = this.data.subarray(this.pos, nl);
        this.pos = nl + 1;
        return line;
      }
      if (this.remaining(0) <= this.data.length) throw this.truncated(opPos, code, ' (no newline)');
      // A line longer than the window: a window from the opcode on, twice as large.
      const have = this.data.length - opPos;
      this.checkLimit(have, opPos, code);
      const rel = this.pos - opPos;
      this.setWindow(this.base + opPos, 2 * have + this.windowing.window);
      opPos = 0;
      this.pos = rel;
    }
  }

  /** INT: Python's int(line, 0); `00`/`01` are False/True. */
  protected loadInt(opPos: number, code: number): unknown {
    const line = this.readLine(opPos, code);
    if (line.length === 2 && line[0] === 0x30 && (line[1] === 0x30 || line[1] === 0x31))
      return line[1] === 0x31;
    return this.int(this.textInt(line, opPos, code));
  }

  /** LONG: Python's int(line, 0), with Python 2's trailing `L`. */
  protected loadLong(opPos: number, code: number): number | bigint {
    let line = this.readLine(opPos, code);
    if (line[line.length - 1] === 0x4c) line = line.subarray(0, line.length - 1);
    return this.int(this.textInt(line, opPos, code));
  }

  private textInt(line: Uint8Array, opPos: number, code: number): bigint {
    try {
      // INT and LONG both parse as Python's int(text, 0) does (0x/0o/0b prefixes, no leading zeros).
      return parsePyInt(line, {
        base: 0,
        maxDigits: this.opts.limits.maxIntDigits,
        limitName: 'limits.maxIntDigits',
      });
    } catch (e) {
      if (e instanceof LiteralError) {
        throw this.fail(e.message, opPos, code, e.message.includes('limits.') ? 'limit' : 'invalid-value');
      }
      throw e;
    }
  }

  /** FLOAT: Python's float(line). */
  protected loadFloat(opPos: number, code: number): number {
    const line = this.readLine(opPos, code);
    try {
      return parsePyFloat(line);
    } catch (e) {
      if (e instanceof LiteralError) throw this.fail(e.message, opPos, code, 'invalid-value');
      throw e;
    }
  }

  /** STRING: a quoted Python 2 literal with escapes, decoded by the `encoding` option. */
  protected loadString(opPos: number, code: number): unknown {
    let line = this.readLine(opPos, code);
    this.checkLimit(line.length, opPos, code);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1); // CRLF files
    const q = line[0];
    if (line.length < 2 || (q !== 0x22 && q !== 0x27) || line[line.length - 1] !== q) {
      throw this.fail('the STRING opcode argument must be quoted', opPos, code, 'invalid-value');
    }
    let raw: Uint8Array;
    try {
      raw = escapeDecode(line.subarray(1, line.length - 1));
    } catch (e) {
      throw this.fail(`bad STRING argument: ${(e as Error).message}`, opPos, code, 'invalid-value');
    }
    return this.py2string(raw, opPos, code);
  }

  /** UNICODE: a raw-unicode-escape line. */
  protected loadUnicode(opPos: number, code: number): string {
    const line = this.readLine(opPos, code);
    this.checkLimit(line.length, opPos, code);
    try {
      return rawUnicodeEscapeDecode(line);
    } catch (e) {
      throw this.fail(`bad UNICODE argument: ${(e as Error).message}`, opPos, code, 'invalid-value');
    }
  }

  /** GLOBAL / INST: two lines, module and name, as UTF-8 (what the C unpickler reads). */
  protected loadGlobalName(opPos: number, code: number): [string, string] {
    const module = this.lineText(this.readLine(opPos, code), opPos, code);
    const name = this.lineText(this.readLine(opPos, code), opPos, code);
    return [module, name];
  }

  private lineText(line: Uint8Array, opPos: number, code: number): string {
    try {
      return decodeUtf8(line, 0, line.length);
    } catch (e) {
      throw this.fail(
        `invalid UTF-8 in text argument: ${(e as Error).message}`,
        opPos,
        code,
        'invalid-value',
      );
    }
  }

  /** GET / PUT: a decimal memo index line. */
  protected loadMemoIndex(opPos: number, code: number): number {
    const line = this.readLine(opPos, code);
    let v: bigint;
    try {
      // More than 20 digits: no memo slot has such an index (and the limit's message would mislead).
      v = parsePyInt(line, { base: 10, maxDigits: 20, limitName: 'the memo size' });
    } catch (e) {
      if (!(e instanceof LiteralError)) throw e;
      const text = decodeLatin1(line, 0, Math.min(line.length, 40));
      throw this.fail(
        e.message.includes('digits')
          ? `memo index ${text}… out of range`
          : `invalid memo index ${JSON.stringify(text)}`,
        opPos,
        code,
        'memo',
      );
    }
    if (v < 0n) throw this.fail(`negative ${opcodeName(code)} argument`, opPos, code, 'memo');
    if (v > 0xffffffffn) throw this.fail(`memo index ${v} out of range`, opPos, code, 'memo');
    return Number(v);
  }

  /** PERSID: an ASCII line given to `persistentLoad`. */
  protected loadPersid(opPos: number, code: number): unknown {
    const line = this.readLine(opPos, code);
    let pid: string;
    try {
      pid = decodeAscii(line, 0, line.length);
    } catch {
      throw this.fail('persistent IDs in protocol 0 must be ASCII strings', opPos, code, 'invalid-value');
    }
    return this.persistent(pid, opPos, code);
  }

  /** PERSID / BINPERSID: the user's `persistentLoad` (torch storages, …). */
  protected persistent(pid: unknown, opPos: number, code: number): unknown {
    const hook = this.opts.persistentLoad;
    if (!hook) {
      throw this.fail(
        'a persistent id instruction was encountered, but no persistentLoad option was given',
        opPos,
        code,
        'unsupported',
      );
    }
    return hook(pid);
  }

  /** EXT1/EXT2/EXT4: a code of the caller's copyreg extension registry. */
  protected loadExt(ext: number, opPos: number, code: number): unknown {
    if (ext <= 0) throw this.fail('EXT specifies code <= 0', opPos, code, 'invalid-value');
    const entry = this.opts.extensions?.[ext];
    if (
      !entry ||
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'string'
    ) {
      throw this.fail(`unregistered extension code ${ext}`, opPos, code, 'unsupported');
    }
    return this.resolveGlobal(entry[0], entry[1]);
  }

  /** NEXT_BUFFER: the next out-of-band buffer (protocol 5). */
  protected loadNextBuffer(opPos: number, code: number): PickleBuffer {
    const it = this.opts.buffers;
    if (!it)
      throw this.fail(
        'pickle stream refers to out-of-band data but no buffers option was given',
        opPos,
        code,
        'unsupported',
      );
    const next = it.next();
    if (next.done) throw this.fail('not enough out-of-band buffers', opPos, code, 'unsupported');
    const b = next.value as unknown;
    if (!(b instanceof Uint8Array))
      throw this.fail('out-of-band buffers must be Uint8Arrays', opPos, code, 'invalid-value');
    return new PickleBuffer(b, false);
  }

  /** READONLY_BUFFER: the buffer on top, read-only. */
  protected loadReadonlyBuffer(top: unknown, opPos: number, code: number): unknown {
    if (top instanceof PickleBuffer) return new PickleBuffer(top.data, true);
    if (top instanceof ByteArray)
      return new Uint8Array(top.buffer as ArrayBuffer, top.byteOffset, top.length);
    if (top instanceof Uint8Array) return top;
    throw this.fail(`READONLY_BUFFER on ${describeType(top)}`, opPos, code, 'stack');
  }

  /** FRAME: an 8-byte length; the frame must lie within the input (CPython checks that much). */
  protected loadFrame(pos: number, opPos: number, code: number): void {
    const n = this.length8(pos, opPos, code);
    const maxFrame = this.opts.limits.maxObjectBytes;
    if (n > maxFrame) {
      throw this.fail(
        `frame of ${n} bytes exceeds limits.maxObjectBytes (${maxFrame}); raise it to allow more`,
        opPos,
        code,
        'limit',
      );
    }
    const left = this.remaining(pos + 8);
    if (n > left) throw this.truncated(opPos, code, ` (frame of ${n} bytes, ${left} left)`);
  }
}

const EMPTY = new Uint8Array(0);

/** String-keyed entries of a dict-like state (plain object or Map with only string keys). */
function attributeEntries(state: unknown): [string, unknown][] | undefined {
  if (isPlainObject(state)) return Object.entries(state);
  if (state instanceof Map) {
    const out: [string, unknown][] = [];
    for (const [k, v] of state) {
      if (typeof k !== 'string') return undefined;
      out.push([k, v]);
    }
    return out;
  }
  return undefined;
}

/** Names a PyObject uses itself; a state dict holding one of them is kept whole in `__state__`. */
const RESERVED = new Set([
  '__class__',
  '__kind__',
  '__args__',
  '__kwargs__',
  '__state__',
  '__items__',
  '__dictitems__',
  '__qualname__',
  'attributes',
]);

/** Python's default `__setstate__` semantics, kept inert. */
function applyPyObjectState(obj: PyObject, state: unknown): void {
  if (state === null) return;
  if (isPlainObject(state)) {
    // The usual case (an instance __dict__): keys only, no entry arrays (bench: 50k objects).
    const keys = Object.keys(state);
    for (let i = 0; i < keys.length; i++) {
      if (RESERVED.has(keys[i] as string)) {
        obj.__state__ = state;
        return;
      }
    }
    for (let i = 0; i < keys.length; i++) setOwn(obj, keys[i] as string, state[keys[i] as string]);
    return;
  }
  const attrs = attributeEntries(state);
  if (attrs && attrs.some(([k]) => RESERVED.has(k))) {
    obj.__state__ = state;
    return;
  }
  if (attrs) {
    for (const [k, v] of attrs) setOwn(obj, k, v);
    return;
  }
  // (dict_or_None, slots_dict): both become attributes; the tuple is kept so the writer can re-emit slots.
  if (state instanceof Tuple && state.length === 2) {
    const a = state[0] === null ? [] : attributeEntries(state[0]);
    const b = state[1] === null ? [] : attributeEntries(state[1]);
    if (a && b && !a.some(([k]) => RESERVED.has(k)) && !b.some(([k]) => RESERVED.has(k))) {
      for (const [k, v] of a) setOwn(obj, k, v);
      for (const [k, v] of b) setOwn(obj, k, v);
      obj.__state__ = state;
      return;
    }
  }
  obj.__state__ = state;
}

/** Short type description for error messages. */
export function describeType(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint' || typeof v === 'number')
    return typeof v === 'bigint' || Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Tuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof ByteArray) return 'bytearray';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof FrozenSet) return 'frozenset';
  if (v instanceof Set) return 'set';
  if (v instanceof Map || isPlainObject(v)) return 'dict';
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof PyObject) return `${v.__class__.qualifiedName} object`;
  return (v as object).constructor?.name ?? typeof v;
}

/** Turn a failure inside a handler (or a user constructor) into an UnpicklingError at the opcode. */
export function asUnpicklingError(e: unknown, offset: number, opcode: string): PickleError {
  if (e instanceof PickleError) return e;
  const err = new UnpicklingError(`${(e as Error)?.message ?? String(e)}`, offset, opcode || undefined);
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}
