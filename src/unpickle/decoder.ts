/**
 * The unpickling machine: one non-recursive loop over a Uint8Array, with the value stack, mark stack
 * and memo as locals. It executes nothing: globals become inert references, and the registry decides
 * which of them are rebuilt as JS values.
 */
import { PickleError, UnpicklingError } from '../errors.js';
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
  isPlainObject,
  setOwn,
  type PyObjectKind,
} from '../python/values.js';
import {
  LiteralError,
  escapeDecode,
  parseFloat_,
  parseIntBase0,
  parseIntBase10,
  rawUnicodeEscapeDecode,
} from './literals.js';
import { DEFAULT_LIMITS, type Limits, type LoadOptions } from './options.js';
import { isDangerousGlobal } from './policy.js';
import { GlobalRegistry, SET_STATE, hasSetState, type DecodeContext, type GlobalHandler } from './registry.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** How many opcodes run between checks of the stack/memo limits (bounds the overshoot, keeps the loop lean). */
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
  registry: GlobalRegistry;
  persistentLoad: ((pid: unknown) => unknown) | undefined;
  extensions: Readonly<Record<number, readonly [string, string]>> | undefined;
  buffers: Iterator<Uint8Array> | undefined;
  aliases: [string, string][];
  unknownGlobals: 'inert' | 'error';
  dangerousGlobals: 'error' | 'inert';
  readSibling: ((name: string) => Uint8Array | undefined) | undefined;
}

/** Normalise user options (handlers from `constructors` are merged over the registry). */
export function resolveOptions(
  options: LoadOptions | undefined,
  baseRegistry: GlobalRegistry,
  readSibling?: (name: string) => Uint8Array | undefined,
): Resolved {
  const o = options ?? {};
  let registry = o.registry ?? baseRegistry;
  if (o.constructors) {
    const extra = new GlobalRegistry();
    for (const [name, c] of Object.entries(o.constructors)) {
      if (typeof c === 'function') {
        extra.register(name, {
          call: (args) => c([...args]),
          construct: (args, kwargs) => c([...args], kwargs),
        });
      } else extra.register(name, c);
    }
    registry = registry.merge(extra);
  }
  const encoding = o.encoding ?? 'ascii';
  if (!['ascii', 'latin1', 'bytes', 'utf-8'].includes(encoding)) {
    throw new UnpicklingError(`unsupported encoding option ${JSON.stringify(encoding)}`);
  }
  return {
    lossless: o.lossless === true,
    encoding,
    limits: { ...DEFAULT_LIMITS, ...(o.limits ?? {}) },
    registry,
    persistentLoad: o.persistentLoad,
    extensions: o.extensions,
    buffers: o.buffers ? o.buffers[Symbol.iterator]() : undefined,
    aliases: Object.entries(o.moduleAliases ?? {}).sort((a, b) => b[0].length - a[0].length),
    unknownGlobals: o.unknownGlobals ?? 'inert',
    dangerousGlobals: o.dangerousGlobals ?? 'error',
    readSibling,
  };
}

/** Marker for a MARK-delimited slice popped off the stack. */
type Slice = unknown[];

function isHashable(k: unknown): boolean {
  if (k === null || typeof k !== 'object') return true;
  if (k instanceof Tuple || k instanceof FrozenSet || k instanceof PyObject || k instanceof PyGlobal) return true;
  if (k instanceof ByteArray || Array.isArray(k) || k instanceof Map || k instanceof Set) return false;
  if (isPlainObject(k)) return false;
  return true; // other value classes (datetime, Decimal, ...) are immutable in Python
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

  toInt(value: unknown): number | bigint {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw this.error(`expected an int, got ${describeType(value)}`);
  }

  error(message: string): UnpicklingError {
    return new UnpicklingError(message, this.offset, this.opcode || undefined);
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
    if (this.opts.dangerousGlobals === 'error' && isDangerousGlobal(m, n)) {
      throw this.error(
        `refusing global ${m}.${n}: it can run code or touch the system when Python loads this pickle ` +
          `(pass dangerousGlobals: 'inert' to decode it as an inert reference)`,
      );
    }
    const handler = this.opts.registry.get(m, n);
    if (!handler && this.opts.unknownGlobals === 'error') {
      throw this.error(`unknown global ${m}.${n} (unknownGlobals is 'error')`);
    }
    const g = new PyGlobal(m, n);
    let value: unknown = g;
    if (handler) {
      this.handlers.set(g, handler);
      if (handler.reference) value = handler.reference(this);
    }
    this.globals.set(key, value);
    return value;
  }

  private handlerOf(callable: unknown): GlobalHandler | undefined {
    return callable instanceof PyGlobal ? this.handlers.get(callable) : undefined;
  }

  /** REDUCE / INST / OBJ: `callable(*args)`. */
  private call(callable: unknown, args: Tuple, kind: PyObjectKind): unknown {
    const h = this.handlerOf(callable);
    if (h?.call) return h.call(args, this);
    if (h?.construct && kind !== 'reduce') return h.construct(args, undefined, this);
    if (!(callable instanceof PyGlobal)) {
      throw this.error(`the callable is ${describeType(callable)}, not a global`);
    }
    return new PyObject(callable, kind, args);
  }

  /** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
  private construct(cls: unknown, args: unknown, kwargs: Map<unknown, unknown> | undefined, ex: boolean): unknown {
    if (!(args instanceof Tuple)) throw this.error(`NEWOBJ arguments must be a tuple, got ${describeType(args)}`);
    if (!(cls instanceof PyGlobal)) throw this.error(`NEWOBJ class must be a global, got ${describeType(cls)}`);
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
    if (obj instanceof PyObject) {
      applyPyObjectState(obj, state);
      return obj;
    }
    // Builtin containers of Python subclasses (an OrderedDict with attributes, ...): attributes only.
    if (state === null) return obj;
    const attrs = attributeEntries(state);
    if (!attrs) throw this.error(`cannot BUILD a ${describeType(obj)} from ${describeType(state)} state`);
    for (const [k, v] of attrs) setOwn(obj, k, v);
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

  private loop(start: number): Decoded {
    const data = this.data;
    const view = this.view;
    const len = data.length;
    const opts = this.opts;
    const lossless = opts.lossless;
    const limits = opts.limits;
    const stack: unknown[] = [];
    const marks: number[] = [];
    let fence = 0; // stack index of the innermost mark: items below it are out of reach
    const memo: unknown[] = [];
    let memoCount = 0;
    let ops = 0;
    let pos = start;
    let opPos = start;
    let code = 0;
    // Default mode: dicts start as plain objects and become Maps when a non-string key arrives.
    let upgraded: Map<object, Map<unknown, unknown>> | undefined;
    let memoIndex: Map<object, number[]> | undefined;

    const fail = (message: string): never => {
      throw new UnpicklingError(message, opPos, opcodeName(code));
    };
    const need = (n: number): void => {
      if (n > len - pos) fail('pickle data was truncated');
    };
    const pop = (): unknown => {
      if (stack.length <= fence) fail('unpickling stack underflow');
      return stack.pop();
    };
    const popMark = (): Slice => {
      const m = marks.pop();
      if (m === undefined) return fail('could not find MARK');
      fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
      const items = stack.slice(m);
      stack.length = m;
      return items;
    };
    const readLine = (): number => {
      // Returns the index of the '\n' ending the line that starts at pos.
      const nl = data.indexOf(0x0a, pos);
      if (nl < 0) fail('pickle data was truncated (no newline)');
      return nl;
    };
    const lineAscii = (): string => {
      const nl = readLine();
      const s = decodeLatin1(data, pos, nl);
      pos = nl + 1;
      return s;
    };
    const lineUtf8 = (): string => {
      const nl = readLine();
      let s: string;
      try {
        s = decodeUtf8(data, pos, nl);
      } catch (e) {
        return fail(`invalid UTF-8 in text argument: ${(e as Error).message}`);
      }
      pos = nl + 1;
      return s;
    };
    const int = (v: bigint): number | bigint =>
      lossless ? v : v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
    const length8 = (): number => {
      need(8);
      const lo = view.getUint32(pos, true);
      const hi = view.getUint32(pos + 4, true);
      pos += 8;
      if (hi >= 0x200000) fail('length prefix exceeds 2**53');
      return hi * 0x100000000 + lo;
    };
    const checkObject = (n: number): void => {
      if (n > limits.maxObjectBytes) {
        fail(`object of ${n} bytes exceeds limits.maxObjectBytes (${limits.maxObjectBytes}); raise it to allow more`);
      }
      if (n > len - pos) fail(`pickle data was truncated (need ${n} bytes, ${len - pos} left)`);
    };
    const text = (n: number): string => {
      checkObject(n);
      let s: string;
      try {
        s = decodeUtf8(data, pos, pos + n);
      } catch (e) {
        if (e instanceof TextError) return fail(`invalid UTF-8 in str: ${e.message}`);
        throw e;
      }
      pos += n;
      return s;
    };
    const bytes = (n: number): Uint8Array => {
      checkObject(n);
      const b = data.subarray(pos, pos + n);
      pos += n;
      return b;
    };
    const py2string = (raw: Uint8Array): unknown => {
      const enc = opts.encoding;
      if (enc === 'bytes') return raw;
      try {
        if (enc === 'latin1') return decodeLatin1(raw, 0, raw.length);
        if (enc === 'ascii') return decodeAscii(raw, 0, raw.length);
        return decodeUtf8(raw, 0, raw.length);
      } catch (e) {
        return fail(`cannot decode Python 2 str with encoding '${enc}': ${(e as Error).message}`);
      }
    };
    const memoPut = (idx: number, v: unknown): void => {
      if (memo[idx] === undefined) memoCount++;
      memo[idx] = v;
      if (memoIndex !== undefined && isPlainObject(v)) {
        const list = memoIndex.get(v);
        if (list) list.push(idx);
        else memoIndex.set(v, [idx]);
      }
    };
    const memoGet = (idx: number): unknown => {
      const v = memo[idx];
      if (v === undefined) fail(`memo value not found at index ${idx}`);
      return v;
    };
    /** Turn the plain-object dict at stack[at] into a Map (default mode, first non-string key). */
    const upgrade = (obj: Record<string, unknown>, at: number): Map<unknown, unknown> => {
      const map = new Map<unknown, unknown>(Object.entries(obj));
      if (memoIndex === undefined) {
        memoIndex = new Map();
        for (const k of Object.keys(memo)) {
          const v = memo[k as unknown as number];
          if (isPlainObject(v)) {
            const list = memoIndex.get(v);
            if (list) list.push(Number(k));
            else memoIndex.set(v, [Number(k)]);
          }
        }
      }
      for (const idx of memoIndex.get(obj) ?? []) memo[idx] = map;
      memoIndex.delete(obj);
      stack[at] = map;
      (upgraded ??= new Map()).set(obj, map);
      return map;
    };
    const setItems = (target: unknown, at: number, items: Slice, from: number): void => {
      if ((items.length - from) % 2 !== 0) fail('odd number of items for SETITEMS');
      if (target instanceof Map) {
        for (let i = from; i < items.length; i += 2) {
          const k = items[i];
          if (!isHashable(k)) fail(`unhashable dict key: ${describeType(k)}`);
          target.set(k, items[i + 1]);
        }
        return;
      }
      if (isPlainObject(target)) {
        for (let i = from; i < items.length; i += 2) {
          const k = items[i];
          if (typeof k === 'string') {
            if (k === '__proto__') setOwn(target, k, items[i + 1]);
            else target[k] = items[i + 1];
          } else {
            const map = upgrade(target, at);
            setItems(map, at, items, i);
            return;
          }
        }
        return;
      }
      if (target instanceof PyObject) {
        const d = (target.__dictitems__ ??= new Map());
        for (let i = from; i < items.length; i += 2) {
          if (!isHashable(items[i])) fail(`unhashable dict key: ${describeType(items[i])}`);
          d.set(items[i], items[i + 1]);
        }
        return;
      }
      fail(`cannot set items on ${describeType(target)}`);
    };
    const appendItems = (target: unknown, items: Slice): void => {
      if (Array.isArray(target) && !(target instanceof Tuple)) {
        for (let i = 0; i < items.length; i++) target.push(items[i]);
      } else if (target instanceof PyObject) {
        const l = (target.__items__ ??= []);
        for (let i = 0; i < items.length; i++) l.push(items[i]);
      } else fail(`cannot append to ${describeType(target)}`);
    };
    const addItems = (target: unknown, items: Slice): void => {
      if (target instanceof Set && !(target instanceof FrozenSet)) {
        for (const x of items) {
          if (!isHashable(x)) fail(`unhashable set element: ${describeType(x)}`);
          target.add(x);
        }
      } else if (target instanceof PyObject) {
        const l = (target.__items__ ??= []);
        for (const x of items) l.push(x);
      } else fail(`cannot add items to ${describeType(target)}`);
    };
    const sync = (): void => {
      this.pos = pos;
      this.offset = opPos;
      this.opcode = opcodeName(code);
    };
    const pushGlobal = (module: string, name: string): void => {
      sync();
      stack.push(this.resolveGlobal(module, name));
    };

    while (true) {
      if (pos >= len) {
        opPos = pos;
        code = -1;
        throw new UnpicklingError('pickle data was truncated (no STOP opcode)', pos);
      }
      opPos = pos;
      code = data[pos++] as number;
      if (++ops % CHECK_EVERY === 0) {
        if (stack.length > limits.maxStack) fail(`stack exceeds limits.maxStack (${limits.maxStack}); raise it to allow more`);
        if (memoCount > limits.maxMemo) fail(`memo exceeds limits.maxMemo (${limits.maxMemo}); raise it to allow more`);
        if (ops > limits.maxOpcodes) fail(`more than limits.maxOpcodes (${limits.maxOpcodes}) opcodes; raise it to allow more`);
      }
      switch (code) {
        // ---- protocol and framing
        case 0x80: { // PROTO
          need(1);
          const p = data[pos++] as number;
          if (p > 5) fail(`unsupported pickle protocol: ${p}`);
          this.protocol = p;
          break;
        }
        case 0x95: { // FRAME
          const n = length8();
          if (n > len - pos) fail(`pickle data was truncated (frame of ${n} bytes, ${len - pos} left)`);
          break;
        }
        case 0x2e: { // STOP
          const value = pop();
          const finalValue = upgraded ? fixUpgraded(value, upgraded) : value;
          return { value: finalValue, end: pos };
        }

        // ---- stack manipulation
        case 0x28: // MARK
          marks.push(stack.length);
          fence = stack.length;
          if (marks.length > limits.maxDepth) fail(`MARK nesting exceeds limits.maxDepth (${limits.maxDepth}); raise it to allow more`);
          break;
        case 0x30: // POP
          if (stack.length > fence) stack.pop();
          else if (marks.length > 0) popMark();
          else fail('unpickling stack underflow');
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: { // DUP
          if (stack.length <= fence) fail('unpickling stack underflow');
          stack.push(stack[stack.length - 1]);
          break;
        }

        // ---- atoms
        case 0x4e: // NONE
          stack.push(null);
          break;
        case 0x88: // NEWTRUE
          stack.push(true);
          break;
        case 0x89: // NEWFALSE
          stack.push(false);
          break;
        case 0x4b: // BININT1
          need(1);
          stack.push(lossless ? BigInt(data[pos++] as number) : (data[pos++] as number));
          break;
        case 0x4d: // BININT2
          need(2);
          stack.push(lossless ? BigInt(view.getUint16(pos, true)) : view.getUint16(pos, true));
          pos += 2;
          break;
        case 0x4a: // BININT
          need(4);
          stack.push(lossless ? BigInt(view.getInt32(pos, true)) : view.getInt32(pos, true));
          pos += 4;
          break;
        case 0x8a: { // LONG1
          need(1);
          const n = data[pos++] as number;
          need(n);
          stack.push(decodeLong(data, pos, n, lossless));
          pos += n;
          break;
        }
        case 0x8b: { // LONG4
          need(4);
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) fail('LONG pickle has negative byte count');
          checkObject(n);
          stack.push(decodeLong(data, pos, n, lossless));
          pos += n;
          break;
        }
        case 0x49: { // INT
          const s = lineAscii();
          if (s === '00') stack.push(false);
          else if (s === '01') stack.push(true);
          else {
            let v: bigint | undefined;
            try {
              v = parseIntBase10(s, limits.maxIntDigits);
            } catch (e) {
              fail((e as Error).message);
            }
            if (v === undefined) fail(`invalid literal for int(): ${JSON.stringify(s)}`);
            stack.push(int(v as bigint));
          }
          break;
        }
        case 0x4c: { // LONG
          let s = lineAscii();
          if (s.endsWith('L')) s = s.slice(0, -1);
          let v: bigint | undefined;
          try {
            v = parseIntBase0(s, limits.maxIntDigits);
          } catch (e) {
            fail((e as Error).message);
          }
          if (v === undefined) fail(`invalid literal for int() with base 0: ${JSON.stringify(s)}`);
          stack.push(int(v as bigint));
          break;
        }
        case 0x47: // BINFLOAT
          need(8);
          stack.push(view.getFloat64(pos, false));
          pos += 8;
          break;
        case 0x46: { // FLOAT
          const s = lineAscii();
          const v = parseFloat_(s);
          if (v === undefined) fail(`could not convert string to float: ${JSON.stringify(s)}`);
          stack.push(v);
          break;
        }

        // ---- strings and bytes
        case 0x8c: { // SHORT_BINUNICODE
          need(1);
          const n = data[pos++] as number;
          stack.push(text(n));
          break;
        }
        case 0x58: { // BINUNICODE
          need(4);
          const n = view.getUint32(pos, true);
          pos += 4;
          stack.push(text(n));
          break;
        }
        case 0x8d: // BINUNICODE8
          stack.push(text(length8()));
          break;
        case 0x56: { // UNICODE
          const nl = readLine();
          try {
            stack.push(rawUnicodeEscapeDecode(data.subarray(pos, nl)));
          } catch (e) {
            fail(`bad UNICODE argument: ${(e as Error).message}`);
          }
          pos = nl + 1;
          break;
        }
        case 0x43: { // SHORT_BINBYTES
          need(1);
          const n = data[pos++] as number;
          stack.push(bytes(n));
          break;
        }
        case 0x42: { // BINBYTES
          need(4);
          const n = view.getUint32(pos, true);
          pos += 4;
          stack.push(bytes(n));
          break;
        }
        case 0x8e: // BINBYTES8
          stack.push(bytes(length8()));
          break;
        case 0x96: { // BYTEARRAY8
          const n = length8();
          checkObject(n);
          stack.push(new ByteArray(data.buffer as ArrayBuffer, data.byteOffset + pos, n));
          pos += n;
          break;
        }
        case 0x55: { // SHORT_BINSTRING
          need(1);
          const n = data[pos++] as number;
          stack.push(py2string(bytes(n)));
          break;
        }
        case 0x54: { // BINSTRING
          need(4);
          const n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) fail('BINSTRING pickle has negative byte count');
          stack.push(py2string(bytes(n)));
          break;
        }
        case 0x53: { // STRING
          const nl = readLine();
          let end = nl;
          if (end > pos && data[end - 1] === 0x0d) end--; // tolerate CRLF files written on Windows
          const q = data[pos];
          if (end - pos < 2 || (q !== 0x22 && q !== 0x27) || data[end - 1] !== q) {
            fail('the STRING opcode argument must be quoted');
          }
          let raw: Uint8Array;
          try {
            raw = escapeDecode(data.subarray(pos + 1, end - 1));
          } catch (e) {
            return fail(`bad STRING argument: ${(e as Error).message}`);
          }
          pos = nl + 1;
          stack.push(py2string(raw));
          break;
        }

        // ---- containers
        case 0x5d: // EMPTY_LIST
          stack.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          stack.push(new Tuple());
          break;
        case 0x7d: // EMPTY_DICT
          stack.push(lossless ? new Map() : {});
          break;
        case 0x8f: // EMPTY_SET
          stack.push(new Set());
          break;
        case 0x85: { // TUPLE1
          const a = pop();
          const t = new Tuple();
          t.push(a);
          stack.push(t);
          break;
        }
        case 0x86: { // TUPLE2
          const b = pop();
          const a = pop();
          const t = new Tuple();
          t.push(a, b);
          stack.push(t);
          break;
        }
        case 0x87: { // TUPLE3
          const c = pop();
          const b = pop();
          const a = pop();
          const t = new Tuple();
          t.push(a, b, c);
          stack.push(t);
          break;
        }
        case 0x74: // TUPLE
          stack.push(Tuple.from_(popMark()));
          break;
        case 0x6c: // LIST
          stack.push(popMark());
          break;
        case 0x64: { // DICT
          const items = popMark();
          if (items.length % 2 !== 0) fail('odd number of items for DICT');
          let allStr = !lossless;
          for (let i = 0; allStr && i < items.length; i += 2) allStr = typeof items[i] === 'string';
          const d: unknown = allStr ? {} : new Map();
          stack.push(d);
          setItems(d, stack.length - 1, items, 0);
          break;
        }
        case 0x91: { // FROZENSET
          const items = popMark();
          for (const x of items) if (!isHashable(x)) fail(`unhashable set element: ${describeType(x)}`);
          stack.push(new FrozenSet(items));
          break;
        }
        case 0x61: { // APPEND
          const x = pop();
          if (stack.length <= fence) fail('unpickling stack underflow');
          appendItems(stack[stack.length - 1], [x]);
          break;
        }
        case 0x65: { // APPENDS
          const items = popMark();
          if (stack.length <= fence) fail('unpickling stack underflow');
          appendItems(stack[stack.length - 1], items);
          break;
        }
        case 0x73: { // SETITEM
          const v = pop();
          const k = pop();
          if (stack.length <= fence) fail('unpickling stack underflow');
          setItems(stack[stack.length - 1], stack.length - 1, [k, v], 0);
          break;
        }
        case 0x75: { // SETITEMS
          const items = popMark();
          if (stack.length <= fence) fail('unpickling stack underflow');
          setItems(stack[stack.length - 1], stack.length - 1, items, 0);
          break;
        }
        case 0x90: { // ADDITEMS
          const items = popMark();
          if (stack.length <= fence) fail('unpickling stack underflow');
          addItems(stack[stack.length - 1], items);
          break;
        }

        // ---- memo
        case 0x94: { // MEMOIZE
          if (stack.length <= fence) fail('unpickling stack underflow');
          memoPut(memoCount, stack[stack.length - 1]);
          break;
        }
        case 0x71: { // BINPUT
          need(1);
          if (stack.length <= fence) fail('unpickling stack underflow');
          memoPut(data[pos++] as number, stack[stack.length - 1]);
          break;
        }
        case 0x72: { // LONG_BINPUT
          need(4);
          if (stack.length <= fence) fail('unpickling stack underflow');
          memoPut(view.getUint32(pos, true), stack[stack.length - 1]);
          pos += 4;
          break;
        }
        case 0x70: { // PUT
          const s = lineAscii();
          const v = parseIntBase10(s, 20);
          if (v === undefined) fail(`invalid PUT index ${JSON.stringify(s)}`);
          if ((v as bigint) < 0n) fail('negative PUT argument');
          if ((v as bigint) > 0xffffffffn) fail('PUT index too large');
          if (stack.length <= fence) fail('unpickling stack underflow');
          memoPut(Number(v), stack[stack.length - 1]);
          break;
        }
        case 0x68: // BINGET
          need(1);
          stack.push(memoGet(data[pos++] as number));
          break;
        case 0x6a: // LONG_BINGET
          need(4);
          stack.push(memoGet(view.getUint32(pos, true)));
          pos += 4;
          break;
        case 0x67: { // GET
          const s = lineAscii();
          const v = parseIntBase10(s, 20);
          if (v === undefined) fail(`invalid GET index ${JSON.stringify(s)}`);
          if ((v as bigint) < 0n || (v as bigint) > 0xffffffffn) fail(`memo value not found at index ${s}`);
          stack.push(memoGet(Number(v)));
          break;
        }

        // ---- objects
        case 0x63: { // GLOBAL
          const module = lineUtf8();
          const name = lineUtf8();
          pushGlobal(module, name);
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL requires str');
          pushGlobal(module as string, name as string);
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: { // EXT4
          let ext: number;
          if (code === 0x82) {
            need(1);
            ext = data[pos++] as number;
          } else if (code === 0x83) {
            need(2);
            ext = view.getUint16(pos, true);
            pos += 2;
          } else {
            need(4);
            ext = view.getInt32(pos, true);
            pos += 4;
          }
          if (ext <= 0) fail('EXT specifies code <= 0');
          const entry = opts.extensions?.[ext];
          if (!entry || !Array.isArray(entry) || entry.length !== 2) fail(`unregistered extension code ${ext}`);
          const [m, n] = entry as readonly [string, string];
          pushGlobal(m, n);
          break;
        }
        case 0x52: { // REDUCE
          const args = pop();
          const callable = pop();
          if (!(args instanceof Tuple)) fail(`REDUCE arguments must be a tuple, got ${describeType(args)}`);
          sync();
          const r = this.call(callable, args as Tuple, 'reduce');
          pos = this.pos;
          stack.push(r);
          break;
        }
        case 0x81: { // NEWOBJ
          const args = pop();
          const cls = pop();
          sync();
          const r = this.construct(cls, args, undefined, false);
          pos = this.pos;
          stack.push(r);
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          let kw: Map<unknown, unknown>;
          if (kwargs instanceof Map) kw = kwargs;
          else if (isPlainObject(kwargs)) kw = new Map(Object.entries(kwargs));
          else return fail(`NEWOBJ_EX kwargs must be a dict, got ${describeType(kwargs)}`);
          sync();
          const r = this.construct(cls, args, kw, true);
          pos = this.pos;
          stack.push(r);
          break;
        }
        case 0x69: { // INST
          const module = lineUtf8();
          const name = lineUtf8();
          const args = Tuple.from_(popMark());
          sync();
          const cls = this.resolveGlobal(module, name);
          const r = this.call(cls, args, 'inst');
          pos = this.pos;
          stack.push(r);
          break;
        }
        case 0x6f: { // OBJ
          const items = popMark();
          if (items.length === 0) fail('OBJ needs a class');
          sync();
          const r = this.call(items[0], Tuple.from_(items.slice(1)), 'obj');
          pos = this.pos;
          stack.push(r);
          break;
        }
        case 0x62: { // BUILD
          const state = pop();
          if (stack.length <= fence) fail('unpickling stack underflow');
          sync();
          const r = this.build(stack[stack.length - 1], state);
          pos = this.pos;
          stack[stack.length - 1] = r;
          break;
        }
        case 0x50: { // PERSID
          const nl = readLine();
          let pid: string;
          try {
            pid = decodeAscii(data, pos, nl);
          } catch {
            return fail('persistent IDs in protocol 0 must be ASCII strings');
          }
          pos = nl + 1;
          stack.push(this.persistent(pid, opPos, code));
          break;
        }
        case 0x51: { // BINPERSID
          const pid = pop();
          stack.push(this.persistent(pid, opPos, code));
          break;
        }
        case 0x97: { // NEXT_BUFFER
          const it = opts.buffers;
          if (!it) fail('pickle stream refers to out-of-band data but no buffers option was given');
          const next = (it as Iterator<Uint8Array>).next();
          if (next.done) fail('not enough out-of-band buffers');
          const b = next.value as unknown;
          if (!(b instanceof Uint8Array)) fail('out-of-band buffers must be Uint8Arrays');
          stack.push(new PickleBuffer(b as Uint8Array, false));
          break;
        }
        case 0x98: { // READONLY_BUFFER
          if (stack.length <= fence) fail('unpickling stack underflow');
          const top = stack[stack.length - 1];
          if (top instanceof PickleBuffer) stack[stack.length - 1] = new PickleBuffer(top.data, true);
          else if (top instanceof ByteArray) stack[stack.length - 1] = new Uint8Array(top.buffer as ArrayBuffer, top.byteOffset, top.length);
          else if (!(top instanceof Uint8Array)) fail(`READONLY_BUFFER on ${describeType(top)}`);
          break;
        }
        default:
          fail(
            code >= 0x20 && code < 0x7f
              ? `invalid load key, '${String.fromCharCode(code)}'`
              : `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
          );
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
      );
    }
    return hook(pid);
  }
}

/** Two's-complement little-endian integer of n bytes (LONG1/LONG4). */
function decodeLong(data: Uint8Array, start: number, n: number, lossless: boolean): number | bigint {
  if (n === 0) return lossless ? 0n : 0;
  if (n <= 6 && !lossless) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + (data[start + i] as number);
    if ((data[start + n - 1] as number) & 0x80) v -= 2 ** (8 * n);
    return v;
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

/** Python's default `__setstate__` semantics, kept inert. */
function applyPyObjectState(obj: PyObject, state: unknown): void {
  if (state === null) return;
  const attrs = attributeEntries(state);
  if (attrs) {
    for (const [k, v] of attrs) setOwn(obj, k, v);
    return;
  }
  // (dict_or_None, slots_dict): both become attributes; the tuple is kept so the writer can re-emit slots.
  if (state instanceof Tuple && state.length === 2) {
    const a = state[0] === null ? [] : attributeEntries(state[0]);
    const b = state[1] === null ? [] : attributeEntries(state[1]);
    if (a && b) {
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
    } else if (isPlainObject(v)) {
      for (const k of Object.keys(v)) {
        const x = swap(v[k]);
        if (x !== v[k]) setOwn(v, k, x);
        todo.push(x);
      }
    }
  }
  return swap(root);
}
