/**
 * The unpickling machine: one non-recursive loop over a Uint8Array, with the value stack, mark stack
 * and memo as locals. It executes nothing: globals become inert references, and the registry decides
 * which of them are rebuilt as JS values.
 */
import { PickleError, UnpicklingError, type UnpicklingErrorCode } from '../errors.js';
import { opcodeName } from '../opcodes.js';
import { decodeAscii, decodeLatin1, decodeUtf8, TextError } from '../bytes/text.js';
import { IMPORT_MAPPING, NAME_MAPPING } from '../python/compat.js';
import {
  ByteArray,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  Tuple,
  isHashable,
  isPlainObject,
  setOwn,
  type PyObjectKind,
} from '../python/values.js';
import {
  escapeDecode,
  parseFloat_,
  parseIntBase0,
  parseIntBase10,
  rawUnicodeEscapeDecode,
} from './literals.js';
import { DEFAULT_LIMITS, type Limits, type LoadOptions } from './options.js';
import type { Policy } from './policy.js';
import { FamilySet } from '../family.js';
import { CALL, SET_STATE, hasSetState, isCallable, type DecodeContext, type GlobalHandler } from './registry.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** Opcodes between checks of the stack/memo limits (a power of two: bounds the overshoot, keeps the loop lean). */
const CHECK_EVERY = 4096;
/** Nested pickles (joblib object arrays) deeper than this are refused: real files nest one level. */
const MAX_NESTED = 32;

export interface Decoded {
  readonly value: unknown;
  /** Offset just past the STOP opcode. */
  readonly end: number;
}

/** Options resolved once per call. */
interface Resolved {
  lossless: boolean;
  encoding: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  limits: Limits;
  /** The families' handlers, and the user's `constructors` over them. */
  handlers: ReadonlyMap<string, GlobalHandler>;
  constructors: ReadonlyMap<string, GlobalHandler> | undefined;
  policy: Policy;
  persistentLoad: ((pid: unknown) => unknown) | undefined;
  extensions: Readonly<Record<number, readonly [string, string]>> | undefined;
  buffers: Iterator<Uint8Array> | undefined;
  aliases: [string, string][];
  unknownGlobals: 'inert' | 'error';
  dangerousGlobals: 'error' | 'inert';
  readSibling: ((name: string) => Uint8Array | undefined) | undefined;
}

/** Normalise user options (handlers from `constructors` are looked up before the families'). */
export function resolveOptions(
  options: LoadOptions | undefined,
  families: FamilySet,
  readSibling?: (name: string) => Uint8Array | undefined,
): Resolved {
  const o = options ?? {};
  let constructors: Map<string, GlobalHandler> | undefined;
  if (o.constructors) {
    constructors = new Map();
    for (const [name, c] of Object.entries(o.constructors)) {
      if (typeof c === 'function') {
        constructors.set(name, {
          call: (args) => c([...args]),
          construct: (args, kwargs) => c([...args], kwargs),
        });
      } else constructors.set(name, c);
    }
  }
  const encoding = o.encoding ?? 'ascii';
  if (!['ascii', 'latin1', 'bytes', 'utf-8'].includes(encoding)) {
    throw new UnpicklingError(`unsupported encoding option ${JSON.stringify(encoding)}`, -1, undefined, 'invalid-value');
  }
  return {
    lossless: o.lossless === true,
    encoding,
    limits: { ...DEFAULT_LIMITS, ...(o.limits ?? {}) },
    handlers: families.handlers,
    constructors,
    policy: families.policy,
    persistentLoad: o.persistentLoad,
    extensions: o.extensions,
    buffers: o.buffers ? o.buffers[Symbol.iterator]() : undefined,
    aliases: Object.entries(o.moduleAliases ?? {}).sort((a, b) => b[0].length - a[0].length),
    unknownGlobals: o.unknownGlobals ?? 'inert',
    dangerousGlobals: o.dangerousGlobals ?? 'error',
    readSibling,
  };
}

/**
 * One decoding run over `data`. A Machine decodes one pickle per `run` call; `loadsAll` calls it
 * repeatedly. State that handlers need (position, protocol) lives on the instance; the opcode loop
 * mirrors it in locals and syncs around handler calls.
 */
export class Machine implements DecodeContext {
  readonly lossless: boolean;
  protocol = 0;
  offset = 0;
  opcode = '';
  readonly encoding: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  /** Current read position; valid whenever a handler is running. */
  pos = 0;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly opts: Resolved;
  private globals = new Map<string, unknown>();
  private handlers = new Map<PyGlobal, GlobalHandler>();
  private nested = 0;
  readSibling?: (name: string) => Uint8Array | undefined;

  constructor(data: Uint8Array, opts: Resolved, nested = 0) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.opts = opts;
    this.lossless = opts.lossless;
    this.encoding = opts.encoding;
    this.nested = nested;
    if (opts.readSibling) this.readSibling = opts.readSibling;
  }

  // ---- DecodeContext -------------------------------------------------------------------------

  get limits(): Limits {
    return this.opts.limits;
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

  readRaw(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw this.error(`invalid raw payload length ${n}`);
    if (n > this.data.length - this.pos) throw this.error('pickle data was truncated (raw payload)');
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  loadNested(): unknown {
    if (this.nested >= MAX_NESTED) throw this.error(`nested pickles deeper than ${MAX_NESTED}`);
    const inner = new Machine(this.data, this.opts, this.nested + 1);
    const { value, end } = inner.run(this.pos);
    this.pos = end;
    return value;
  }

  loadBytes(data: Uint8Array): unknown {
    if (this.nested >= MAX_NESTED) throw this.error(`nested pickles deeper than ${MAX_NESTED}`);
    return new Machine(data, this.opts, this.nested + 1).run(0).value;
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
      throw this.error(`invalid global ${JSON.stringify(module)} ${JSON.stringify(name)}: empty module or attribute name`);
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
    const policed = this.opts.dangerousGlobals === 'error' && !(full === 'builtins.getattr' && handler !== undefined);
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
  private refuseIfDangerous(module: string, name: string, m: string, n: string, use: 'referenced' | 'called'): void {
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

  /** Globals that may be referenced but not called (numpy.memmap): the names as written. */
  private calledDanger: Map<PyGlobal, [string, string]> | undefined;

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
  private call(callable: unknown, args: Tuple, kind: PyObjectKind): unknown {
    if (this.calledDanger !== undefined) this.checkCall(callable);
    const h = this.handlerOf(callable);
    if (h?.call) return h.call(args, this);
    if (h?.construct && kind !== 'reduce') return h.construct(args, undefined, this);
    if (kind === 'reduce' && isCallable(callable)) return callable[CALL](args, this);
    if (!(callable instanceof PyGlobal)) {
      throw this.error(`the callable is ${describeType(callable)}, not a global`);
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
  private construct(cls: unknown, args: unknown, kwargs: Map<unknown, unknown> | undefined, ex: boolean): unknown {
    if (!(args instanceof Tuple)) throw this.error(`NEWOBJ arguments must be a tuple, got ${describeType(args)}`);
    if (!(cls instanceof PyGlobal)) throw this.error(`NEWOBJ class must be a global, got ${describeType(cls)}`);
    if (this.calledDanger !== undefined) this.checkCall(cls);
    const h = this.handlers.get(cls);
    if (h?.construct) return h.construct(args, kwargs, this);
    if (h?.call && !kwargs) return h.call(args, this);
    return new PyObject(cls, ex ? 'newobj_ex' : 'newobj', args, kwargs);
  }

  /** BUILD: apply `state` to `obj`; returns the value that replaces obj on the stack. */
  private build(obj: unknown, state: unknown): unknown {
    if (hasSetState(obj)) {
      const r = obj[SET_STATE](state, this);
      return r === undefined ? obj : r;
    }
    if (obj === null || typeof obj !== 'object') {
      throw this.error(`cannot BUILD a ${describeType(obj)}`);
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
    if (previous && !previous.configurable) throw this.error(`cannot BUILD a ${describeType(obj)}`);
    Object.defineProperty(obj, '__state__', { value: state, enumerable: false, writable: true, configurable: true });
    return obj;
  }

  // ---- the machine ---------------------------------------------------------------------------

  /** Decode one pickle starting at `start`. */
  run(start: number): Decoded {
    try {
      return this.loop(start);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      // A handler (or a user constructor) failed: report it as a decoding failure at this opcode.
      const err = new UnpicklingError(`${(e as Error)?.message ?? String(e)}`, this.offset, this.opcode || undefined);
      (err as Error & { cause?: unknown }).cause = e;
      throw err;
    }
  }

  // ---- helpers of the loop (methods, so the loop's locals stay in registers) -------------------

  private fail(message: string, opPos: number, code: number, kind?: UnpicklingErrorCode): UnpicklingError {
    return new UnpicklingError(message, opPos, code < 0 ? undefined : opcodeName(code), kind);
  }

  private underflow(opPos: number, code: number): UnpicklingError {
    return this.fail('unpickling stack underflow', opPos, code, 'stack');
  }

  /** Index of the newline ending the text line that starts at `pos`. */
  private lineEnd(pos: number, opPos: number, code: number): number {
    const nl = this.data.indexOf(0x0a, pos);
    if (nl < 0) throw this.fail('pickle data was truncated (no newline)', opPos, code);
    return nl;
  }

  private lineUtf8(pos: number, nl: number, opPos: number, code: number): string {
    try {
      return decodeUtf8(this.data, pos, nl);
    } catch (e) {
      throw this.fail(`invalid UTF-8 in text argument: ${(e as Error).message}`, opPos, code);
    }
  }

  /** A length-prefixed payload of n bytes at pos: checked against the limit and the input. */
  private checkObject(n: number, pos: number, opPos: number, code: number): void {
    const max = this.opts.limits.maxObjectBytes;
    if (n > max) {
      throw this.fail(`object of ${n} bytes exceeds limits.maxObjectBytes (${max}); raise it to allow more`, opPos, code);
    }
    if (n > this.data.length - pos) {
      throw this.fail(`pickle data was truncated (need ${n} bytes, ${this.data.length - pos} left)`, opPos, code);
    }
  }

  /** An 8-byte little-endian length at pos (FRAME, *8 opcodes). */
  private length8(pos: number, opPos: number, code: number): number {
    if (8 > this.data.length - pos) throw this.fail('pickle data was truncated', opPos, code);
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getUint32(pos + 4, true);
    if (hi >= 0x200000) throw this.fail('length prefix exceeds 2**53', opPos, code);
    return hi * 0x100000000 + lo;
  }

  private str(start: number, end: number, opPos: number, code: number): string {
    try {
      return decodeUtf8(this.data, start, end);
    } catch (e) {
      if (e instanceof TextError) throw this.fail(`invalid UTF-8 in str: ${e.message}`, opPos, code);
      throw e;
    }
  }

  private py2string(raw: Uint8Array, opPos: number, code: number): unknown {
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
      );
    }
  }

  private int(v: bigint): number | bigint {
    return this.lossless ? v : v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }

  private textInt(text: string, opPos: number, code: number): bigint {
    let v: bigint | undefined;
    try {
      // INT and LONG both parse as Python's int(text, 0) does (0x/0o/0b prefixes, no leading zeros).
      v = parseIntBase0(text, this.opts.limits.maxIntDigits);
    } catch (e) {
      throw this.fail((e as Error).message, opPos, code);
    }
    if (v === undefined) throw this.fail(`invalid literal for int(): ${JSON.stringify(text)}`, opPos, code);
    return v;
  }

  private memoIndexOf(text: string, opPos: number, code: number): number {
    let v: bigint | undefined;
    try {
      v = parseIntBase10(text, 20);
    } catch {
      // More than 20 digits: no memo slot has such an index (and the parser's message would name
      // limits.maxIntDigits, which does not apply here).
      throw this.fail(`memo index ${text.trim().slice(0, 40)}${text.length > 40 ? '…' : ''} out of range`, opPos, code, 'memo');
    }
    if (v === undefined) throw this.fail(`invalid memo index ${JSON.stringify(text)}`, opPos, code, 'memo');
    if (v < 0n) throw this.fail(`negative ${opcodeName(code)} argument`, opPos, code, 'memo');
    if (v > 0xffffffffn) throw this.fail(`memo index ${text} out of range`, opPos, code, 'memo');
    return Number(v);
  }

  /** Keep the plain-object → memo-slot index current once an upgrade needed it. */
  private indexMemo(v: unknown, idx: number): void {
    if (this.memoIndex !== undefined && isPlainObject(v)) {
      const list = this.memoIndex.get(v);
      if (list) list.push(idx);
      else this.memoIndex.set(v, [idx]);
    }
  }

  private memo: unknown[] = [];
  private memoIndex: Map<object, number[]> | undefined;
  private upgraded: Map<object, Map<unknown, unknown>> | undefined;
  /**
   * gotten[i] = 1 once memo slot i was read by a GET; `escaped` once a plain object may be held in a
   * second place without a GET (DUP, or a handler/hook returned one). An upgraded dict that neither
   * shows is referenced only by its stack slot and memo slots, which upgrade() replaces, so the
   * final walk over the whole result (fixUpgraded) is skipped: it was 40 % of decoding a dict with
   * tuple keys.
   */
  private gotten: Uint8Array = new Uint8Array(256);
  private escaped = false;
  /**
   * Large lists filled by APPENDS are over-allocated (length set ahead; the real length kept in
   * `grown`) and trimmed before anything can look at them: every handler call goes through sync(),
   * which trims; APPEND, SETITEM(S) on a list and STOP trim too. Growing a large array step by step
   * cost ~28 ns per element here (fresh pages for each bigger copy): ints_1m spent a third of its
   * decode in it. `reserved` is the length last set ahead: after a trim V8 keeps the store (spare room
   * below 2x), so the next APPENDS reuses it instead of reallocating (a list read by a handler between
   * batches, 50k datetimes with one REDUCE each, was reallocated every batch: 43 % of its decode).
   */
  private grown: Map<unknown[], number> | undefined;
  private reserved: Map<unknown[], number> | undefined;

  /** Give every over-allocated list its real length. */
  private trimGrown(): void {
    const grown = this.grown;
    if (grown === undefined) return;
    for (const [list, n] of grown) list.length = n;
    this.grown = undefined;
  }

  /** APPENDS of stack[from..to) onto a plain list, over-allocating large ones (see `grown`). */
  private appendToList(target: unknown[], stack: unknown[], from: number, to: number): void {
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

  /**
   * LONG_BINGET/GET of an index beyond `gotten`: grow it, or give up tracking (treat every dict as
   * shared) for an index far beyond the memo's size: a few bytes of input must not buy a huge bitmap.
   */
  private markGotten(idx: number, memoCount: number): Uint8Array {
    if (idx >= 1 << 26 || idx > 4 * memoCount + 4096) this.escaped = true;
    else {
      const g = new Uint8Array(Math.max(idx + 1, this.gotten.length * 2));
      g.set(this.gotten);
      g[idx] = 1;
      this.gotten = g;
    }
    return this.gotten;
  }

  /** A value from a handler, a hook or DUP: a plain object may now be referenced twice. */
  private handed<T>(v: T): T {
    if (v !== null && typeof v === 'object' && isPlainObject(v)) this.escaped = true;
    return v;
  }

  /** Default mode: the plain-object dict at stack[at] gets a non-string key, so it becomes a Map. */
  private upgrade(obj: Record<string, unknown>, stack: unknown[], at: number): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>(Object.entries(obj));
    if (this.memoIndex === undefined) {
      this.memoIndex = new Map();
      const memo = this.memo;
      // Dense memo: index loop (Object.keys would make a string per slot); a sparse one (huge
      // LONG_BINPUT indices) has few keys.
      if (memo.length <= 1 << 24) {
        for (let i = 0; i < memo.length; i++) if (memo[i] !== undefined) this.indexMemo(memo[i], i);
      } else for (const k of Object.keys(memo)) this.indexMemo(memo[k as unknown as number], Number(k));
    }
    let shared = this.escaped;
    for (const idx of this.memoIndex.get(obj) ?? []) {
      this.memo[idx] = map;
      // (a GET beyond `gotten` grew it or set `escaped`, so slots past its end were never read)
      if (idx < this.gotten.length && this.gotten[idx] === 1) shared = true;
    }
    this.memoIndex.delete(obj);
    if (at >= 0) stack[at] = map;
    if (shared) (this.upgraded ??= new Map()).set(obj, map);
    return map;
  }

  /** SETITEM(S)/DICT: set stack[from..to) as key/value pairs on `target` (at stack[at]). */
  private setItems(target: unknown, stack: unknown[], at: number, from: number, to: number, opPos: number, code: number): void {
    if ((to - from) % 2 !== 0) throw this.fail(`odd number of items for ${opcodeName(code)}`, opPos, code, 'stack');
    if (target instanceof Map) {
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        if (typeof k === 'object' && k !== null && !isHashable(k)) throw this.fail(`unhashable dict key: ${describeType(k)}`, opPos, code);
        target.set(k, stack[i + 1]);
      }
      return;
    }
    if (isPlainObject(target)) {
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        if (typeof k === 'string') {
          if (k === '__proto__') setOwn(target, k, stack[i + 1]);
          else target[k] = stack[i + 1];
        } else {
          this.setItems(this.upgrade(target, stack, at), stack, at, i, to, opPos, code);
          return;
        }
      }
      return;
    }
    if (target instanceof PyObject) {
      const d = (target.__dictitems__ ??= new Map());
      for (let i = from; i < to; i += 2) {
        if (!isHashable(stack[i])) throw this.fail(`unhashable dict key: ${describeType(stack[i])}`, opPos, code);
        d.set(stack[i], stack[i + 1]);
      }
      return;
    }
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      // Python's generic `obj[key] = value`: on a list an int index in range works. CPython never
      // writes this, but its unpickler accepts a hand-made stream that does.
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        const n = typeof k === 'boolean' ? Number(k) : typeof k === 'bigint' ? Number(k) : k;
        if (typeof n !== 'number' || !Number.isInteger(n)) {
          throw this.fail(`list indices must be integers, not ${describeType(k)}`, opPos, code);
        }
        const idx = n < 0 ? n + target.length : n;
        if (!(idx >= 0 && idx < target.length)) throw this.fail('list assignment index out of range', opPos, code);
        target[idx] = stack[i + 1];
      }
      return;
    }
    throw this.fail(`cannot set items on ${describeType(target)}`, opPos, code, 'stack');
  }

  /** APPEND(S): stack[from..to) onto `target`. */
  private appendItems(target: unknown, stack: unknown[], from: number, to: number, opPos: number, code: number): void {
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      for (let i = from; i < to; i++) target.push(stack[i]);
    } else if (target instanceof PyObject) {
      const l = (target.__items__ ??= []);
      for (let i = from; i < to; i++) l.push(stack[i]);
    } else throw this.fail(`cannot append to ${describeType(target)}`, opPos, code, 'stack');
  }

  /** ADDITEMS: stack[from..to) into a set. */
  private addItems(target: unknown, stack: unknown[], from: number, to: number, opPos: number, code: number): void {
    if (target instanceof Set && !(target instanceof FrozenSet)) {
      for (let i = from; i < to; i++) {
        if (!isHashable(stack[i])) throw this.fail(`unhashable set element: ${describeType(stack[i])}`, opPos, code);
        target.add(stack[i]);
      }
    } else if (target instanceof PyObject) {
      const l = (target.__items__ ??= []);
      for (let i = from; i < to; i++) l.push(stack[i]);
    } else throw this.fail(`cannot add items to ${describeType(target)}`, opPos, code, 'stack');
  }

  private sync(pos: number, opPos: number, code: number): void {
    // A handler is about to run: lists must show their real length (see `grown`).
    if (this.grown !== undefined) this.trimGrown();
    this.pos = pos;
    this.offset = opPos;
    this.opcode = opcodeName(code);
  }

  private checkLimits(stackLen: number, memoCount: number, ops: number, opPos: number, code: number): void {
    const limits = this.opts.limits;
    if (stackLen > limits.maxStack) throw this.fail(`stack exceeds limits.maxStack (${limits.maxStack}); raise it to allow more`, opPos, code);
    if (memoCount > limits.maxMemo) throw this.fail(`memo exceeds limits.maxMemo (${limits.maxMemo}); raise it to allow more`, opPos, code);
    if (ops > limits.maxOpcodes) throw this.fail(`more than limits.maxOpcodes (${limits.maxOpcodes}) opcodes; raise it to allow more`, opPos, code);
  }

  private ext(ext: number, opPos: number, code: number): unknown {
    if (ext <= 0) throw this.fail('EXT specifies code <= 0', opPos, code);
    const entry = this.opts.extensions?.[ext];
    if (!entry || !Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
      throw this.fail(`unregistered extension code ${ext}`, opPos, code, 'unsupported');
    }
    return this.resolveGlobal(entry[0], entry[1]);
  }

  private nextBuffer(opPos: number, code: number): PickleBuffer {
    const it = this.opts.buffers;
    if (!it) throw this.fail('pickle stream refers to out-of-band data but no buffers option was given', opPos, code, 'unsupported');
    const next = it.next();
    if (next.done) throw this.fail('not enough out-of-band buffers', opPos, code, 'unsupported');
    const b = next.value as unknown;
    if (!(b instanceof Uint8Array)) throw this.fail('out-of-band buffers must be Uint8Arrays', opPos, code);
    return new PickleBuffer(b, false);
  }

  private readonlyBuffer(top: unknown, opPos: number, code: number): unknown {
    if (top instanceof PickleBuffer) return new PickleBuffer(top.data, true);
    if (top instanceof ByteArray) return new Uint8Array(top.buffer as ArrayBuffer, top.byteOffset, top.length);
    if (top instanceof Uint8Array) return top;
    throw this.fail(`READONLY_BUFFER on ${describeType(top)}`, opPos, code, 'stack');
  }

  private dictFromSlice(stack: unknown[], m: number, end: number, opPos: number, code: number): unknown {
    let allStr = !this.lossless;
    for (let i = m; allStr && i < end; i += 2) allStr = typeof stack[i] === 'string';
    const d: unknown = allStr ? {} : new Map();
    // The pairs sit at stack[m..end); the dict is pushed after they are consumed.
    this.setItems(d, stack, -1, m, end, opPos, code);
    return d;
  }

  private stringOpcode(pos: number, nl: number, opPos: number, code: number): unknown {
    const data = this.data;
    let end = nl;
    if (end > pos && data[end - 1] === 0x0d) end--; // tolerate CRLF files written on Windows
    const q = data[pos];
    if (end - pos < 2 || (q !== 0x22 && q !== 0x27) || data[end - 1] !== q) {
      throw this.fail('the STRING opcode argument must be quoted', opPos, code);
    }
    let raw: Uint8Array;
    try {
      raw = escapeDecode(data.subarray(pos + 1, end - 1));
    } catch (e) {
      throw this.fail(`bad STRING argument: ${(e as Error).message}`, opPos, code);
    }
    return this.py2string(raw, opPos, code);
  }

  private invalidKey(opPos: number, code: number): UnpicklingError {
    return new UnpicklingError(
      code >= 0x20 && code < 0x7f
        ? `invalid load key, '${String.fromCharCode(code)}'`
        : `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
      opPos,
      undefined,
      'bad-opcode',
    );
  }

  private loop(start: number): Decoded {
    const data = this.data;
    const view = this.view;
    const len = data.length;
    const lossless = this.lossless;
    const maxDepth = this.opts.limits.maxDepth;
    const stack: unknown[] = [];
    const marks: number[] = [];
    const memo: unknown[] = (this.memo = []);
    this.memoIndex = undefined;
    this.upgraded = undefined;
    let gotten: Uint8Array = (this.gotten = new Uint8Array(256));
    this.escaped = false;
    let fence = 0; // stack index of the innermost mark: items below it are out of reach
    // The newest EMPTY_LIST while only its stack slot (at freshAt) and at most one memo slot (freshMemo)
    // refer to it. Its first APPENDS then replaces it by an exact-size slice of the stack: a list
    // grown from [] keeps V8's growth slack (a 2-item list took 184 bytes instead of 64; dicts_200k
    // allocated 24 MB less). Any opcode that could copy the reference elsewhere clears it.
    let fresh: unknown[] | undefined;
    let freshAt = -1;
    let freshMemo = -1;
    this.grown = undefined;
    this.reserved = undefined;
    // An explicit top index: shrinking a JS array's length makes V8 trim and regrow its store (GC churn).
    let sp = 0;
    let memoCount = 0;
    let ops = 0;
    let pos = start;
    let opPos: number;
    let code: number;

    for (;;) {
      if (pos >= len) throw this.fail('pickle data was truncated (no STOP opcode)', pos, -1);
      opPos = pos;
      code = data[pos++] as number;
      if ((++ops & (CHECK_EVERY - 1)) === 0) this.checkLimits(sp, memoCount, ops, opPos, code);
      switch (code) {
        // ---- strings first: the most frequent opcodes in real pickles
        case 0x8c: { // SHORT_BINUNICODE
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = decodeUtf8Or(data, pos, pos + n, opPos, code);
          pos += n;
          break;
        }
        case 0x94: // MEMOIZE
          if (sp <= fence) throw this.underflow(opPos, code);
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = memoCount;
            else fresh = undefined;
          }
          if (memo[memoCount] === undefined) {
            // A large memo grows by over-allocation, as large lists do (see `grown`); it is never read
            // outside the machine, and a hole reads as undefined like an unset slot.
            if (memoCount >= memo.length && memoCount >= OVERALLOCATE_FROM) {
              memo.length = memoCount + Math.min(memoCount, OVERALLOCATE_MAX);
            }
            memo[memoCount] = stack[sp - 1];
            if (this.memoIndex !== undefined) this.indexMemo(stack[sp - 1], memoCount);
            memoCount++;
          } else {
            // A PUT already used this index: Python's memo[len(memo)] overwrites it.
            memo[memoCount] = stack[sp - 1];
          }
          break;
        case 0x4b: // BININT1
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = lossless ? BigInt(data[pos++] as number) : (data[pos++] as number);
          break;
        case 0x4d: // BININT2
          if (2 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = lossless ? BigInt(view.getUint16(pos, true)) : view.getUint16(pos, true);
          pos += 2;
          break;
        case 0x4a: // BININT
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = lossless ? BigInt(view.getInt32(pos, true)) : view.getInt32(pos, true);
          pos += 4;
          break;
        case 0x8a: { // LONG1
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          if (n >= 5 && n <= 8 && !lossless) {
            // 33..64-bit values (CPython writes ints >= 2**31 this way): two DataView reads, a double
            // when the value is safe. Inlined here: it is the hot path of int-heavy pickles (bench).
            const lo = view.getUint32(pos, true);
            let hi: number;
            if (n === 8) hi = view.getInt32(pos + 4, true);
            else {
              hi = 0;
              for (let i = pos + n - 1; i >= pos + 4; i--) hi = hi * 256 + (data[i] as number);
              if ((data[pos + n - 1] as number) & 0x80) hi -= 2 ** (8 * (n - 4));
            }
            const v = hi * 4294967296 + lo;
            if (hi >= -0x200000 && hi < 0x200000 && Number.isSafeInteger(v)) stack[sp++] = v;
            // Beyond 2**53 a full 8-byte value is one read of the view we already have (a DataView per
            // value was 15 % of ints_1m decode time).
            else stack[sp++] = n === 8 ? view.getBigInt64(pos, true) : decodeLong(data, view, pos, n, false);
          } else stack[sp++] = decodeLong(data, view, pos, n, lossless);
          pos += n;
          break;
        }
        case 0x47: // BINFLOAT
          if (8 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = view.getFloat64(pos, false);
          pos += 8;
          break;
        case 0x28: // MARK
          marks.push(sp);
          fence = sp;
          if (marks.length > maxDepth) {
            throw this.fail(`MARK nesting exceeds limits.maxDepth (${maxDepth}); raise it to allow more`, opPos, code);
          }
          break;
        case 0x68: { // BINGET
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const v = memo[data[pos] as number];
          if (v === undefined) throw this.fail(`memo value not found at index ${data[pos]}`, opPos, code, 'memo');
          if (v === fresh) fresh = undefined;
          gotten[data[pos] as number] = 1;
          pos++;
          stack[sp++] = v;
          break;
        }
        case 0x71: // BINPUT
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          if (sp <= fence) throw this.underflow(opPos, code);
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = data[pos] as number;
            else fresh = undefined;
          }
          if (memo[data[pos] as number] === undefined) memoCount++;
          memo[data[pos] as number] = stack[sp - 1];
          if (this.memoIndex !== undefined) this.indexMemo(stack[sp - 1], data[pos] as number);
          pos++;
          break;
        case 0x7d: // EMPTY_DICT
          stack[sp++] = lossless ? new Map() : {};
          break;
        case 0x5d: { // EMPTY_LIST
          const l: unknown[] = [];
          fresh = l;
          freshAt = sp;
          freshMemo = -1;
          stack[sp++] = l;
          break;
        }
        case 0x75: { // SETITEMS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          // No items: nothing to do, whatever the target is (CPython's C unpickler returns early too).
          if (m < sp) {
            if (Array.isArray(stack[m - 1])) this.trimGrown(); // (a list's real length)
            this.setItems(stack[m - 1], stack, m - 1, m, sp, opPos, code);
          }
          sp = m;
          break;
        }
        case 0x65: { // APPENDS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          if (m === sp) break; // no items: nothing to do, whatever the target is (as in CPython)
          const target = stack[m - 1];
          if (fresh !== undefined && target === fresh && m - 1 === freshAt && fresh.length === 0) {
            const items = stack.slice(m, sp);
            stack[m - 1] = items;
            if (freshMemo >= 0 && memo[freshMemo] === target) memo[freshMemo] = items;
            fresh = undefined;
          } else if (Array.isArray(target) && Object.getPrototypeOf(target) === Array.prototype) {
            // A plain list (subclasses such as Deque with maxlen go through their own push).
            this.appendToList(target, stack, m, sp);
          } else this.appendItems(target, stack, m, sp, opPos, code);
          sp = m;
          break;
        }
        case 0x61: { // APPEND
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const target = stack[sp - 2];
          this.trimGrown(); // (rare: APPEND after APPENDS on one list)
          if (Array.isArray(target) && !(target instanceof Tuple)) target.push(stack[sp - 1]);
          else this.appendItems(target, stack, sp - 1, sp, opPos, code);
          sp--;
          break;
        }
        case 0x73: // SETITEM
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          if (Array.isArray(stack[sp - 3])) this.trimGrown(); // (a list's real length)
          this.setItems(stack[sp - 3], stack, sp - 3, sp - 2, sp, opPos, code);
          sp -= 2;
          break;
        case 0x95: { // FRAME
          const n = this.length8(pos, opPos, code);
          pos += 8;
          const maxFrame = this.opts.limits.maxObjectBytes;
          if (n > maxFrame) {
            throw this.fail(`frame of ${n} bytes exceeds limits.maxObjectBytes (${maxFrame}); raise it to allow more`, opPos, code);
          }
          if (n > len - pos) throw this.fail(`pickle data was truncated (frame of ${n} bytes, ${len - pos} left)`, opPos, code);
          break;
        }
        case 0x80: { // PROTO
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const p = data[pos++] as number;
          if (p > 5) throw this.fail(`unsupported pickle protocol: ${p}`, opPos, code, 'unsupported');
          this.protocol = p;
          break;
        }
        case 0x2e: { // STOP
          if (sp <= fence) throw this.underflow(opPos, code);
          // The loop checks limits every 4096 opcodes; check once more so short pickles obey them too.
          this.checkLimits(sp, memoCount, ops, opPos, code);
          this.trimGrown();
          const value = stack[sp - 1];
          stack.length = 0;
          const upgraded = this.upgraded;
          this.memo = [];
          this.memoIndex = undefined;
          this.upgraded = undefined;
          return { value: upgraded ? fixUpgraded(value, upgraded) : value, end: pos };
        }

        // ---- stack manipulation
        case 0x30: // POP
          if (sp > fence) sp--;
          else if (marks.length > 0) {
            // POP with only a mark above: CPython pops the mark.
            sp = marks.pop() as number;
            fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          } else throw this.underflow(opPos, code);
          break;
        case 0x31: { // POP_MARK
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          sp = m;
          break;
        }
        case 0x32: // DUP
          if (sp <= fence) throw this.underflow(opPos, code);
          // (Read first: in `stack[sp++] = stack[sp - 1]` the index expression runs before the value.)
          if (stack[sp - 1] === fresh) fresh = undefined;
          stack[sp] = this.handed(stack[sp - 1]);
          sp++;
          break;

        // ---- atoms
        case 0x4e: // NONE
          stack[sp++] = null;
          break;
        case 0x88: // NEWTRUE
          stack[sp++] = true;
          break;
        case 0x89: // NEWFALSE
          stack[sp++] = false;
          break;
        case 0x8b: { // LONG4
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) throw this.fail('LONG pickle has negative byte count', opPos, code);
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = decodeLong(data, view, pos, n, lossless);
          pos += n;
          break;
        }
        case 0x49: { // INT
          const nl = this.lineEnd(pos, opPos, code);
          const s = decodeLatin1(data, pos, nl);
          pos = nl + 1;
          if (s === '00') stack[sp++] = false;
          else if (s === '01') stack[sp++] = true;
          else stack[sp++] = this.int(this.textInt(s, opPos, code));
          break;
        }
        case 0x4c: { // LONG
          const nl = this.lineEnd(pos, opPos, code);
          let s = decodeLatin1(data, pos, nl);
          pos = nl + 1;
          if (s.endsWith('L')) s = s.slice(0, -1);
          stack[sp++] = this.int(this.textInt(s, opPos, code));
          break;
        }
        case 0x46: { // FLOAT
          const nl = this.lineEnd(pos, opPos, code);
          const s = decodeLatin1(data, pos, nl);
          pos = nl + 1;
          const v = parseFloat_(s);
          if (v === undefined) throw this.fail(`could not convert string to float: ${JSON.stringify(s)}`, opPos, code);
          stack[sp++] = v;
          break;
        }

        // ---- strings and bytes
        case 0x58: { // BINUNICODE
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          const n = view.getUint32(pos, true);
          pos += 4;
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = this.str(pos, pos + n, opPos, code);
          pos += n;
          break;
        }
        case 0x8d: { // BINUNICODE8
          const n = this.length8(pos, opPos, code);
          pos += 8;
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = this.str(pos, pos + n, opPos, code);
          pos += n;
          break;
        }
        case 0x56: { // UNICODE
          const nl = this.lineEnd(pos, opPos, code);
          this.checkObject(nl - pos, pos, opPos, code);
          try {
            stack[sp++] = rawUnicodeEscapeDecode(data.subarray(pos, nl));
          } catch (e) {
            throw this.fail(`bad UNICODE argument: ${(e as Error).message}`, opPos, code);
          }
          pos = nl + 1;
          break;
        }
        case 0x43: { // SHORT_BINBYTES
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = data.subarray(pos, pos + n);
          pos += n;
          break;
        }
        case 0x42: { // BINBYTES
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          const n = view.getUint32(pos, true);
          pos += 4;
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = data.subarray(pos, pos + n);
          pos += n;
          break;
        }
        case 0x8e: { // BINBYTES8
          const n = this.length8(pos, opPos, code);
          pos += 8;
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = data.subarray(pos, pos + n);
          pos += n;
          break;
        }
        case 0x96: { // BYTEARRAY8
          const n = this.length8(pos, opPos, code);
          pos += 8;
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = new ByteArray(data.buffer as ArrayBuffer, data.byteOffset + pos, n);
          pos += n;
          break;
        }
        case 0x55: { // SHORT_BINSTRING
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          stack[sp++] = this.py2string(data.subarray(pos, pos + n), opPos, code);
          pos += n;
          break;
        }
        case 0x54: { // BINSTRING
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) throw this.fail('BINSTRING pickle has negative byte count', opPos, code);
          this.checkObject(n, pos, opPos, code);
          stack[sp++] = this.py2string(data.subarray(pos, pos + n), opPos, code);
          pos += n;
          break;
        }
        case 0x53: { // STRING
          const nl = this.lineEnd(pos, opPos, code);
          this.checkObject(nl - pos, pos, opPos, code);
          stack[sp++] = this.stringOpcode(pos, nl, opPos, code);
          pos = nl + 1;
          break;
        }

        // ---- containers
        case 0x29: // EMPTY_TUPLE
          stack[sp++] = new Tuple();
          break;
        case 0x8f: // EMPTY_SET
          stack[sp++] = new Set();
          break;
        case 0x85: { // TUPLE1
          if (sp <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(1); // exact size, index stores (see Tuple.from_)
          t[0] = stack[sp - 1];
          stack[sp - 1] = t;
          break;
        }
        case 0x86: { // TUPLE2
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(2);
          t[0] = stack[sp - 2];
          t[1] = stack[sp - 1];
          sp--;
          stack[sp - 1] = t;
          break;
        }
        case 0x87: { // TUPLE3
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(3);
          t[0] = stack[sp - 3];
          t[1] = stack[sp - 2];
          t[2] = stack[sp - 1];
          sp -= 2;
          stack[sp - 1] = t;
          break;
        }
        case 0x74: // TUPLE
        case 0x6c: // LIST
        case 0x64: // DICT
        case 0x91: { // FROZENSET
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (code === 0x64) {
            const d = this.dictFromSlice(stack, m, sp, opPos, code);
            sp = m;
            stack[sp++] = d;
          } else {
            const items = stack.slice(m, sp);
            sp = m;
            if (code === 0x74) stack[sp++] = Tuple.from_(items);
            else if (code === 0x6c) stack[sp++] = items;
            else {
              for (const x of items) if (!isHashable(x)) throw this.fail(`unhashable set element: ${describeType(x)}`, opPos, code);
              stack[sp++] = new FrozenSet(items);
            }
          }
          break;
        }
        case 0x90: { // ADDITEMS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          if (m < sp) this.addItems(stack[m - 1], stack, m, sp, opPos, code); // (none: a no-op, as in CPython)
          sp = m;
          break;
        }

        // ---- memo (rarer forms)
        case 0x72: { // LONG_BINPUT
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          if (sp <= fence) throw this.underflow(opPos, code);
          const idx = view.getUint32(pos, true);
          pos += 4;
          if (stack[sp - 1] === fresh) fresh = undefined; // (rare: keep the fast path to one-byte indices)
          if (memo[idx] === undefined) memoCount++;
          memo[idx] = stack[sp - 1];
          if (this.memoIndex !== undefined) this.indexMemo(stack[sp - 1], idx);
          break;
        }
        case 0x70: { // PUT
          const nl = this.lineEnd(pos, opPos, code);
          const idx = this.memoIndexOf(decodeLatin1(data, pos, nl), opPos, code);
          pos = nl + 1;
          if (sp <= fence) throw this.underflow(opPos, code);
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = idx;
            else fresh = undefined;
          }
          if (memo[idx] === undefined) memoCount++;
          memo[idx] = stack[sp - 1];
          if (this.memoIndex !== undefined) this.indexMemo(stack[sp - 1], idx);
          break;
        }
        case 0x6a: { // LONG_BINGET
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          const idx = view.getUint32(pos, true);
          pos += 4;
          const v = memo[idx];
          if (v === undefined) throw this.fail(`memo value not found at index ${idx}`, opPos, code, 'memo');
          if (v === fresh) fresh = undefined;
          if (idx < gotten.length) gotten[idx] = 1;
          else gotten = this.markGotten(idx, memoCount);
          stack[sp++] = v;
          break;
        }
        case 0x67: { // GET
          const nl = this.lineEnd(pos, opPos, code);
          const text = decodeLatin1(data, pos, nl);
          pos = nl + 1;
          const idx = this.memoIndexOf(text, opPos, code);
          const v = memo[idx];
          if (v === undefined) throw this.fail(`memo value not found at index ${text}`, opPos, code, 'memo');
          if (v === fresh) fresh = undefined;
          if (idx < gotten.length) gotten[idx] = 1;
          else gotten = this.markGotten(idx, memoCount);
          stack[sp++] = v;
          break;
        }

        // ---- objects
        case 0x63: { // GLOBAL
          const nl1 = this.lineEnd(pos, opPos, code);
          const module = this.lineUtf8(pos, nl1, opPos, code);
          const nl2 = this.lineEnd(nl1 + 1, opPos, code);
          const name = this.lineUtf8(nl1 + 1, nl2, opPos, code);
          pos = nl2 + 1;
          this.sync(pos, opPos, code);
          stack[sp++] = this.handed(this.resolveGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const name = stack[--sp];
          const module = stack[--sp];
          if (typeof name !== 'string' || typeof module !== 'string') throw this.fail('STACK_GLOBAL requires str', opPos, code, 'stack');
          this.sync(pos, opPos, code);
          stack[sp++] = this.handed(this.resolveGlobal(module, name));
          break;
        }
        case 0x82: // EXT1
          if (pos >= len) throw this.fail('pickle data was truncated', opPos, code);
          this.sync(pos + 1, opPos, code);
          stack[sp++] = this.handed(this.ext(data[pos++] as number, opPos, code));
          break;
        case 0x83: // EXT2
          if (2 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          this.sync(pos + 2, opPos, code);
          stack[sp++] = this.handed(this.ext(view.getUint16(pos, true), opPos, code));
          pos += 2;
          break;
        case 0x84: // EXT4
          if (4 > len - pos) throw this.fail('pickle data was truncated', opPos, code);
          this.sync(pos + 4, opPos, code);
          stack[sp++] = this.handed(this.ext(view.getInt32(pos, true), opPos, code));
          pos += 4;
          break;
        case 0x52: { // REDUCE
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const args = stack[--sp];
          const callable = stack[--sp];
          if (!(args instanceof Tuple)) throw this.fail(`REDUCE arguments must be a tuple, got ${describeType(args)}`, opPos, code, 'stack');
          this.sync(pos, opPos, code);
          fresh = undefined; // a handler may return (or keep) a list it was given
          const r = this.call(callable, args, 'reduce');
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x81: { // NEWOBJ
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const args = stack[--sp];
          const cls = stack[--sp];
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.construct(cls, args, undefined, false);
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x92: { // NEWOBJ_EX
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          const kwargs = stack[--sp];
          const args = stack[--sp];
          const cls = stack[--sp];
          let kw: Map<unknown, unknown>;
          if (kwargs instanceof Map) kw = kwargs;
          else if (isPlainObject(kwargs)) kw = new Map(Object.entries(kwargs));
          else throw this.fail(`NEWOBJ_EX kwargs must be a dict, got ${describeType(kwargs)}`, opPos, code, 'stack');
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.construct(cls, args, kw, true);
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x69: { // INST
          const nl1 = this.lineEnd(pos, opPos, code);
          const module = this.lineUtf8(pos, nl1, opPos, code);
          const nl2 = this.lineEnd(nl1 + 1, opPos, code);
          const name = this.lineUtf8(nl1 + 1, nl2, opPos, code);
          pos = nl2 + 1;
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          const args = Tuple.from_(stack.slice(m, sp));
          sp = m;
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.call(this.resolveGlobal(module, name), args, 'inst');
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x6f: { // OBJ
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          const items = stack.slice(m, sp);
          sp = m;
          if (items.length === 0) throw this.fail('OBJ needs a class', opPos, code, 'stack');
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.call(items[0], Tuple.from_(items.slice(1)), 'obj');
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x62: { // BUILD
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const state = stack[--sp];
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.build(stack[sp - 1], state);
          pos = this.pos;
          stack[sp - 1] = this.handed(r);
          break;
        }
        case 0x50: { // PERSID
          const nl = this.lineEnd(pos, opPos, code);
          let pid: string;
          try {
            pid = decodeAscii(data, pos, nl);
          } catch {
            throw this.fail('persistent IDs in protocol 0 must be ASCII strings', opPos, code);
          }
          pos = nl + 1;
          this.sync(pos, opPos, code);
          fresh = undefined;
          stack[sp++] = this.handed(this.persistent(pid, opPos, code));
          break;
        }
        case 0x51: { // BINPERSID
          if (sp <= fence) throw this.underflow(opPos, code);
          this.sync(pos, opPos, code);
          fresh = undefined;
          stack[sp - 1] = this.handed(this.persistent(stack[sp - 1], opPos, code));
          break;
        }
        case 0x97: // NEXT_BUFFER
          stack[sp++] = this.nextBuffer(opPos, code);
          break;
        case 0x98: // READONLY_BUFFER
          if (sp <= fence) throw this.underflow(opPos, code);
          stack[sp - 1] = this.readonlyBuffer(stack[sp - 1], opPos, code);
          break;
        default:
          throw this.invalidKey(opPos, code);
      }
    }
  }

  private persistent(pid: unknown, opPos: number, code: number): unknown {
    const hook = this.opts.persistentLoad;
    if (!hook) {
      throw new UnpicklingError(
        'a persistent id instruction was encountered, but no persistentLoad option was given',
        opPos,
        opcodeName(code),
        'unsupported',
      );
    }
    return hook(pid);
  }
}

/** Lists at least this long grow by over-allocation (see `grown` in the loop); below it V8 grows them well. */
const OVERALLOCATE_FROM = 16384;
/** At most this many spare slots per growth step (64 MB of pointers), however long the list. */
const OVERALLOCATE_MAX = 1 << 23;

/** SHORT_BINUNICODE payloads: decode, turning a TextError into an UnpicklingError at the opcode. */
function decodeUtf8Or(data: Uint8Array, start: number, end: number, opPos: number, code: number): string {
  try {
    return decodeUtf8(data, start, end);
  } catch (e) {
    if (e instanceof TextError) throw new UnpicklingError(`invalid UTF-8 in str: ${e.message}`, opPos, opcodeName(code));
    throw e;
  }
}

/**
 * One Machine (with its options object) kept alive for the life of the module. The optimised loop
 * embeds the hidden classes of these objects; when no instance survives between two calls a full GC
 * frees those classes and V8 throws the compiled loop away (measured: a 65-250 ms recompile after
 * every major GC, bench/deopt-check.mjs). An anchor costs a few hundred bytes.
 */
export const MACHINE_ANCHOR: Machine = new Machine(new Uint8Array(0), resolveOptions(undefined, new FamilySet([])));

/** Two's-complement little-endian integer of n bytes (LONG1/LONG4). */
function decodeLong(data: Uint8Array, view: DataView, start: number, n: number, lossless: boolean): number | bigint {
  if (n === 0) return lossless ? 0n : 0;
  if (n <= 8) {
    // Two 32-bit halves in doubles: exact, and no BigInt unless the value needs one.
    const nlo = n < 4 ? n : 4;
    let lo = 0;
    for (let i = nlo - 1; i >= 0; i--) lo = lo * 256 + (data[start + i] as number);
    let hi = 0;
    for (let i = n - 1; i >= 4; i--) hi = hi * 256 + (data[start + i] as number);
    const negative = ((data[start + n - 1] as number) & 0x80) !== 0;
    if (n <= 4) {
      if (negative) lo -= 2 ** (8 * n);
      return lossless ? BigInt(lo) : lo;
    }
    if (negative) hi -= 2 ** (8 * (n - 4));
    if (!lossless && hi >= -0x200000 && hi < 0x200000) {
      const v = hi * 0x100000000 + lo; // exact in this range; -2**53 itself is not "safe"
      if (Number.isSafeInteger(v)) return v;
    }
    // Full 8 bytes: one DataView read beats composing two BigInts (bench/micro.mjs: ~6x).
    if (n === 8) return view.getBigInt64(start, true);
    return (BigInt(hi) << 32n) + BigInt(lo);
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += HEX[data[start + i] as number];
  let v = BigInt('0x' + hex);
  if ((data[start + n - 1] as number) & 0x80) v -= 1n << BigInt(8 * n);
  if (!lossless && v >= MIN_SAFE && v <= MAX_SAFE) return Number(v);
  return v;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

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
const RESERVED = new Set(['__class__', '__kind__', '__args__', '__kwargs__', '__state__', '__items__', '__dictitems__', '__qualname__', 'attributes']);

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
  if (typeof v === 'bigint' || typeof v === 'number') return typeof v === 'bigint' || Number.isInteger(v) ? 'int' : 'float';
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

/**
 * After a default-mode dict became a Map, references taken before the change (cycles through the
 * memo) still point at the plain object: replace them. Runs only when an upgrade happened.
 */
function fixUpgraded(root: unknown, upgraded: Map<object, Map<unknown, unknown>>): unknown {
  const swap = (v: unknown): unknown => (v !== null && typeof v === 'object' && upgraded.has(v) ? upgraded.get(v) : v);
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
