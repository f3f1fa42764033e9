/**
 * The pickler: JS values to pickle bytes, laid out exactly as CPython's C pickler lays out the same
 * Python values (docs/FORMATS.md §3). It never recurses per nesting level: containers become frames on
 * an explicit stack, so a million-deep list encodes without exhausting the JS stack.
 *
 * JS → Python mapping (the README table):
 *
 * | JS value                                  | Python                                                   |
 * |-------------------------------------------|----------------------------------------------------------|
 * | `null`                                    | `None` (`undefined` is refused, also as a property value) |
 * | `boolean`                                 | `bool`                                                   |
 * | `number`                                  | default: integral → `int` (also -0 and values ≥ 2**53, exactly), otherwise `float`; lossless: always `float` |
 * | `bigint`                                  | `int`                                                    |
 * | `string`                                  | `str` (lone surrogates kept, UTF-8 surrogatepass)        |
 * | `Uint8Array` (and Buffer)                 | `bytes`                                                  |
 * | `ByteArray`                               | `bytearray`                                              |
 * | other typed arrays, ArrayBuffer, DataView | refused, unless a reducer (numpy) claims them            |
 * | `Array`                                   | `list` (holes are `undefined`: refused)                  |
 * | `Tuple`                                   | `tuple`                                                  |
 * | `Map`                                     | `dict` (keys: hashable values; a list/dict/set/bytearray key is refused) |
 * | plain object (`{}` or null prototype)     | `dict` with `str` keys, in `Object.keys` order (integer-like keys first); symbol keys ignored |
 * | `Set` / `FrozenSet`                       | `set` / `frozenset` (elements hashable), in insertion order |
 * | `Complex`, `PyRange`, `PySlice`           | `complex`, `range`, `slice`                              |
 * | `Date`                                    | `datetime.datetime`, tz-aware with `datetime.timezone.utc` (ms precision; invalid dates and years outside 1-9999 refused) |
 * | stdlib classes (PyDateTime, PyDecimal, OrderedDict, Deque, …) | the stdlib type, through the stdlib reducers |
 * | numpy classes (NDArray, DType, NumpyScalar) | numpy objects, through the numpy reducers              |
 * | `PickleBuffer`                            | `pickle.PickleBuffer` (protocol 5 only; in or out of band) |
 * | `PyGlobal`                                | a global reference (safe subset, or `allowGlobals`)       |
 * | `PyObject`                                | the decoded object re-emitted from its class, kind, args, kwargs, state (`__state__` or its own properties), items (only with `allowGlobals`) |
 * | `PyFloat`, `PyName`, `Reduced`            | a float / an interned str / a reduced object (reducer helpers) |
 * | anything a `reducers` option claims       | what the Reduction says                                  |
 * | functions, symbols, other class instances | refused (register a reducer)                              |
 *
 * Shared references and cycles are kept (identity memo). Strings have no identity in JS: a str is
 * written once and referenced afterwards only where CPython shares it whatever the program did
 * (one-character strings below U+0100, '', module and class names, attribute names — which is
 * what plain-object keys are treated as), or for every string with `shareStrings: true`.
 *
 * Every refusal is a PicklingError whose `path` names the value: `root.items[3].owner`,
 * `root.get("key")` (a Map value), `root.keys()[2]` (a Map key), `root.values()[1]` (a set element),
 * `root.obj.__args__[0]`, `root.x{reduce}.args[1]` (inside a reducer's output).
 */
import { PicklingError, type PicklingErrorCode } from '../errors.js';
import { Op } from '../opcodes.js';
import { ByteWriter, FRAME_SIZE_TARGET, type ByteSink } from '../bytes/writer.js';
import { utf8Length } from '../bytes/text.js';
import { REVERSE_IMPORT_MAPPING, REVERSE_NAME_MAPPING } from '../python/compat.js';
import {
  ByteArray,
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  Tuple,
  isPlainObject,
  isHashable,
  isIntNumber,
} from '../python/values.js';
import { reprFloat } from '../tools/pyrepr.js';
import { PyFloat, PyName, Reduced, type ReduceContext, type Reducer, type Reduction } from './reducers.js';
import { familySet } from '../families.js';
import type { Policy } from '../unpickle/policy.js';
import type { DumpOptions } from './options.js';

const {
  MARK,
  STOP,
  POP,
  POP_MARK,
  BININT,
  BININT1,
  BININT2,
  NONE,
  BINPERSID,
  REDUCE,
  UNICODE,
  BINUNICODE,
  APPEND,
  BUILD,
  GLOBAL,
  DICT,
  EMPTY_DICT,
  APPENDS,
  BINGET,
  LONG_BINGET,
  LIST,
  EMPTY_LIST,
  BINPUT,
  LONG_BINPUT,
  SETITEM,
  TUPLE,
  EMPTY_TUPLE,
  SETITEMS,
  BINFLOAT,
  PROTO,
  NEWOBJ,
  TUPLE1,
  TUPLE2,
  TUPLE3,
  NEWTRUE,
  NEWFALSE,
  LONG1,
  LONG4,
  BINBYTES,
  SHORT_BINBYTES,
  SHORT_BINUNICODE,
  BINUNICODE8,
  BINBYTES8,
  EMPTY_SET,
  ADDITEMS,
  FROZENSET,
  NEWOBJ_EX,
  STACK_GLOBAL,
  MEMOIZE,
  BYTEARRAY8,
  NEXT_BUFFER,
  READONLY_BUFFER,
} = Op;

const BATCH = 1000;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const INT_MAX_STR_DIGITS = 4300;
const NodeBuffer: unknown = (globalThis as { Buffer?: unknown }).Buffer;

// ---- frames ----------------------------------------------------------------------------------

/** Frame kinds. */
const K_SEQ = 0; // list/dict/set items, batched
const K_TUPLE = 1;
const K_FROZENSET = 2; // protocol >= 4 MARK ... FROZENSET
const K_PROG = 3; // a reduction (or other composite) as a list of steps

/** Where a K_SEQ frame takes its elements from. */
const SRC_ARRAY = 0; // items a[i]
const SRC_ITER = 1; // items it.next()
const SRC_OBJ = 2; // pairs (a[i], obj[a[i]]): plain-object dicts
const SRC_ENTRIES = 3; // pairs it.next() = [k, v]: Maps
const SRC_PAIRS = 4; // pairs a[i] = [k, v]: reducers' dictitems

/** How a K_SEQ frame groups elements into MARK ... APPENDS/SETITEMS/ADDITEMS batches. */
const B_P0 = 0; // protocol 0: every element followed by APPEND/SETITEM
const B_LIST = 1; // C pickler, exact list: 1 item → APPEND; else ceil(n/1000) MARK batches
const B_DICT = 2; // C pickler, exact dict: 1 item → SETITEM; else floor(n/1000)+1 MARK batches (last may be empty)
const B_SET = 3; // C pickler, set: floor(n/1000)+1 MARK batches (last may be empty)
const B_ITER = 4; // iterators (reduce listitems/dictitems): batches of 1 use APPEND/SETITEM

/** How children of a frame are named in error paths. */
const PK_INDEX = 0; // [i]
const PK_VALUES = 1; // .values()[i]
const PK_KEYS = 2; // .name / ["na me"]
const PK_MAP = 3; // .keys()[i] / .get(key)

/** Program steps (K_PROG). */
const S_SAVE = 0; // save a value (persistent_id applies)
const S_SAVE_NOPID = 1; // save the persistent id itself
const S_CALLABLE = 2; // a reduction's callable: PyGlobal or nested Reduction (trusted)
const S_GLOBAL = 3; // an internal global (trusted)
const S_NAME = 4; // an interned str
const S_BYTE = 5; // one opcode byte
const S_NONE = 6; // save None
const S_TUPLE_OPEN = 7; // start an anonymous tuple of v items
const S_TUPLE_CLOSE = 8; // end it (TUPLEn / TUPLE + memoize)
const S_MEMO = 9; // memoize the reduced object, or POP + GET when it was reached recursively
const S_ITEMS = 10; // listitems
const S_DICTITEMS = 11; // dictitems
const S_STATE = 12; // BUILD state: dict keys are interned names
const S_OWNPROPS = 13; // a PyObject's own enumerable properties as its __dict__ state
const S_KWARGS = 14; // NEWOBJ_EX kwargs dict (name keys)

interface Step {
  readonly s: number;
  readonly v: unknown;
  readonly label: string;
}

class Frame {
  k = 0;
  /**
   * The value this frame writes (identity for the memo and recursion checks; the object whose
   * properties a SRC_OBJ dict reads); undefined if synthesized.
   */
  v: unknown = undefined;
  /** Synthesized by the writer (a copy), so never reached again through the memo. */
  fresh = false;
  /** Registered in the encoder's in-progress table (late-memoized values). */
  late = false;
  prevActive = -1;
  /** Items, keys, pairs, or (K_PROG) the program's steps. */
  a: readonly unknown[] | undefined = undefined;
  it: Iterator<unknown> | undefined = undefined;
  src = 0;
  mode = 0;
  sOp = 0;
  mOp = 0;
  n = 0;
  /** Next element (K_PROG: next step). */
  i = 0;
  cur = -1;
  gEnd = 0;
  gOpen = false;
  groups = 0;
  single = false;
  /** Pairs: 1 when the key is written and the value is pending. */
  part = 0;
  /** Pairs: which half `cur` refers to in error paths (0 key, 1 value). */
  pathPart = 0;
  key: unknown = undefined;
  val: unknown = undefined;
  /** Dict keys (or a state tuple's dicts) are interned names. */
  names = false;
  pk = PK_INDEX;
  prefix = '';
  trusted = false;

  /** Back to the freshly constructed state (frames are pooled). */
  reset(): void {
    this.k = 0;
    this.v = undefined;
    this.fresh = false;
    this.late = false;
    this.prevActive = -1;
    this.a = undefined;
    this.it = undefined;
    this.src = 0;
    this.mode = 0;
    this.sOp = 0;
    this.mOp = 0;
    this.n = 0;
    this.i = 0;
    this.cur = -1;
    this.gEnd = 0;
    this.gOpen = false;
    this.groups = 0;
    this.single = false;
    this.part = 0;
    this.pathPart = 0;
    this.key = undefined;
    this.val = undefined;
    this.names = false;
    this.pk = PK_INDEX;
    this.prefix = '';
    this.trusted = false;
  }
}

// ---- helpers -----------------------------------------------------------------------------------

const IDENT = /^[A-Za-z_$][\w$]*$/;

function keyText(k: unknown): string | undefined {
  if (typeof k === 'string') return JSON.stringify(k.length > 40 ? k.slice(0, 40) + '…' : k);
  if (typeof k === 'number' || typeof k === 'boolean') return String(k);
  if (typeof k === 'bigint') return `${k}n`;
  if (k === null) return 'null';
  return undefined;
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object' && typeof x !== 'function') return typeof x;
  const c = (x as { constructor?: { name?: unknown } }).constructor;
  return typeof c === 'function' && typeof c.name === 'string' && c.name ? c.name : 'object';
}

function latin1String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(b.length, i + 8192)) as unknown as number[]);
  }
  return s;
}

const HEX = '0123456789abcdef';

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII without a newline (a protocol-0 PERSID argument). */
function isAsciiLine(s: string): boolean {
  return isAscii(s) && !s.includes('\n');
}

/**
 * Globals implemented in C whose `__qualname__` CPython builds afresh on each access (static types
 * and builtin functions), so it is never shared with an equal string seen earlier in the stream.
 * Module names are always interned, and so are the qualnames of classes and functions defined in
 * Python (measured with CPython 3.11: `datetime.datetime` writes 'datetime' twice, `uuid.UUID`
 * after an attribute 'UUID' uses BINGET).
 */
const FRESH_QUALNAME_MODULES = new Set([
  'builtins',
  '_codecs',
  'datetime',
  '_datetime',
  'decimal',
  '_decimal',
]);
const FRESH_QUALNAMES = new Set([
  'collections.OrderedDict',
  'collections.defaultdict',
  'collections.deque',
  'zoneinfo.ZoneInfo',
  'functools.partial',
  'functools.reduce',
  'numpy.ndarray',
  'numpy.core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray._reconstruct',
  'numpy._core.multiarray.scalar',
]);

/**
 * A global the decoder resolved from `getattr(cls, name)` (Enum members): marked with a
 * `viaGetattr: true` property, it is written back as that getattr call at every protocol.
 */
function viaGetattr(g: PyGlobal): boolean {
  return (g as unknown as { viaGetattr?: unknown }).viaGetattr === true;
}

function freshQualname(module: string, name: string): boolean {
  return FRESH_QUALNAME_MODULES.has(module) || FRESH_QUALNAMES.has(module + '.' + name);
}

const G_GETATTR = new PyGlobal('builtins', 'getattr');
const G_OBJECT = new PyGlobal('builtins', 'object');
const G_RECONSTRUCTOR = new PyGlobal('copyreg', '_reconstructor');
const G_NEWOBJ = new PyGlobal('copyreg', '__newobj__');
const G_NEWOBJ_EX = new PyGlobal('copyreg', '__newobj_ex__');
const G_PARTIAL = new PyGlobal('functools', 'partial');
const G_BYTES = new PyGlobal('builtins', 'bytes');
const G_BYTEARRAY = new PyGlobal('builtins', 'bytearray');
const G_ENCODE = new PyGlobal('_codecs', 'encode');
const G_SET = new PyGlobal('builtins', 'set');
const G_FROZENSET = new PyGlobal('builtins', 'frozenset');
const G_COMPLEX = new PyGlobal('builtins', 'complex');
const G_RANGE = new PyGlobal('builtins', 'range');
const G_SLICE = new PyGlobal('builtins', 'slice');
const NAME_LATIN1 = new PyName('latin1');
const NAME_NEW = new PyName('__new__');

/** One encoding run. */
export class Encoder {
  private readonly w: ByteWriter;
  private readonly proto: number;
  private readonly lossless: boolean;
  private readonly allowGlobals: boolean;
  private readonly fixImports: boolean;
  private readonly shareStrings: boolean;
  private readonly pidFn: ((value: unknown) => unknown) | undefined;
  private readonly bufferCallback: ((buffer: PickleBuffer) => unknown) | undefined;
  private readonly userReducers: readonly Reducer[];
  private readonly familyReducers: readonly Reducer[];
  private readonly policy: Policy;
  private readonly ctx: ReduceContext;

  private readonly memo = new Map<object, number>();
  private readonly strMemo = new Map<string, number>();
  private readonly globalMemo = new Map<string, number>();
  /** Memo indices of b'' (index 256) and the one-byte bytes, which CPython keeps as singletons. */
  private readonly byteSingletons: number[] = [];
  private memoCount = 0;
  /** Late-memoized values being written (tuples, frozensets, reductions) → their frame index. */
  private readonly active = new Map<unknown, number>();
  /** `getattr(cls, '__new__')` of the newobj_ex form below protocol 4, one per class. */
  private readonly newMethods = new Map<string, Reduced>();
  /** Globals the writer synthesized from trusted reductions (allowed as bare values). */
  private readonly trustedGlobals = new WeakSet<object>();
  private readonly stack: Frame[] = [];
  private readonly pool: Frame[] = [];
  /** The next save writes a str as an interned name / a dict with name keys. */
  private named = false;
  /** The next save is of a persistent id: do not ask persistentId about it. */
  private skipPid = false;

  constructor(options: DumpOptions = {}, sink?: ByteSink) {
    this.w = new ByteWriter(sink);
    let p = options.protocol ?? 4;
    if (typeof p !== 'number' || !Number.isInteger(p) || p > 5) {
      throw new PicklingError(`unsupported pickle protocol ${String(p)} (use 0-5)`, 'options.protocol');
    }
    if (p < 0) p = 5;
    this.proto = p;
    this.lossless = options.lossless === true;
    this.allowGlobals = options.allowGlobals === true;
    this.fixImports = options.fixImports !== false;
    this.shareStrings = options.shareStrings === true;
    this.pidFn = options.persistentId;
    this.bufferCallback = options.bufferCallback;
    this.userReducers = options.reducers ?? [];
    const families = familySet(options.families);
    this.familyReducers = families.reducers;
    this.policy = families.policy;
    this.ctx = { protocol: p, lossless: this.lossless, error: (message) => this.fail(message) };
  }

  /** Pickle `root`; returns the bytes. */
  encode(root: unknown): Uint8Array {
    const w = this.w;
    try {
      if (this.proto >= 2) w.byte2(PROTO, this.proto);
      if (this.proto >= 4) w.startFraming();
      if (this.save(root)) this.run();
      w.byte(STOP);
      w.commitFrame();
      return w.result();
    } finally {
      w.release();
    }
  }

  // ---- errors ------------------------------------------------------------------------------

  /** The path of the value being saved: the root plus each open frame's current child. */
  private path(): string {
    let p = 'root';
    for (const f of this.stack) p += this.childSegment(f);
    return p;
  }

  private childSegment(f: Frame): string {
    if (f.k === K_PROG) {
      const step = (f.a as readonly Step[] | undefined)?.[f.cur];
      return step ? step.label : '';
    }
    const i = f.cur;
    switch (f.pk) {
      case PK_VALUES:
        return `${f.prefix}.values()[${i}]`;
      case PK_KEYS: {
        const k = String(f.key);
        return f.prefix + (IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
      }
      case PK_MAP: {
        if (f.pathPart === 0) return `${f.prefix}.keys()[${i}]`;
        return `${f.prefix}.get(${keyText(f.key) ?? `#${i}`})`;
      }
      default:
        return `${f.prefix}[${i}]`;
    }
  }

  private fail(message: string, code?: PicklingErrorCode): PicklingError {
    return new PicklingError(message, this.path(), code);
  }

  // ---- memo --------------------------------------------------------------------------------

  private put(idx: number): void {
    const p = this.proto;
    const w = this.w;
    if (p >= 4) w.byte(MEMOIZE);
    else if (p >= 1) {
      if (idx < 256) w.byte2(BINPUT, idx);
      else w.opU32(LONG_BINPUT, idx);
    } else w.latin1(`p${idx}\n`);
  }

  private get(idx: number): void {
    const w = this.w;
    if (this.proto >= 1) {
      if (idx < 256) w.byte2(BINGET, idx);
      else w.opU32(LONG_BINGET, idx);
    } else w.latin1(`g${idx}\n`);
  }

  /** Memoize `x` (or an anonymous value when undefined); returns its index. */
  private memoize(x: unknown): number {
    const idx = this.memoCount++;
    if (x !== undefined && x !== null && typeof x === 'object') this.memo.set(x, idx);
    this.put(idx);
    return idx;
  }

  // ---- the main loop -------------------------------------------------------------------------

  private run(): void {
    const stack = this.stack;
    while (stack.length > 0) {
      const f = stack[stack.length - 1] as Frame;
      switch (f.k) {
        case K_SEQ:
          this.stepSeq(f);
          break;
        case K_TUPLE:
          this.stepTuple(f);
          break;
        case K_FROZENSET:
          this.stepFrozenSet(f);
          break;
        default:
          this.stepProg(f);
      }
    }
  }

  /** A reset frame from the pool (frames are reused: wide values push and pop many). */
  private frame(): Frame {
    const f = this.pool.pop();
    if (f === undefined) return new Frame();
    return f;
  }

  private push(f: Frame): void {
    const stack = this.stack;
    if (f.late) {
      const prev = this.active.get(f.v);
      f.prevActive = prev ?? -1;
      this.active.set(f.v, stack.length);
    }
    stack.push(f);
  }

  private pop(): void {
    const f = this.stack.pop() as Frame;
    if (f.late) {
      if (f.prevActive < 0) this.active.delete(f.v);
      else this.active.set(f.v, f.prevActive);
    }
    if (this.pool.length < 64) {
      f.reset();
      this.pool.push(f);
    }
  }

  /**
   * `x` (a tuple, frozenset or reduced object, memoized only once complete) is reached again while
   * being written. CPython then writes it again from scratch, which terminates only if a container
   * memoized on entry (list, dict, set, object) lies in between; otherwise it recurses forever.
   */
  private checkRecursion(x: unknown): void {
    const at = this.active.get(x);
    if (at === undefined) return;
    const stack = this.stack;
    for (let j = at + 1; j < stack.length; j++) {
      const f = stack[j] as Frame;
      if (!f.fresh && f.v !== undefined && f.v !== null && typeof f.v === 'object' && this.memo.has(f.v))
        return;
    }
    throw this.fail(
      `${typeName(x)} contains itself with no list, dict, set or object in between, which Python cannot pickle`,
    );
  }

  // ---- save ----------------------------------------------------------------------------------

  /** Write one value; returns true when it pushed a frame that the main loop must finish. */
  private save(x: unknown): boolean {
    const w = this.w;
    // Frames close at object boundaries once they reach the target size.
    if (w.frameStart >= 0 && w.pos - w.frameStart - 9 >= FRAME_SIZE_TARGET) w.commitFrame();
    // (streaming: finished bytes go to the sink at object boundaries)
    if (w.pos >= w.flushAt) w.handOver();
    const named = this.named;
    this.named = false;
    if (this.pidFn !== undefined) {
      if (this.skipPid) this.skipPid = false;
      else {
        const pid = this.pidFn(x);
        if (pid !== undefined && pid !== null) return this.savePers(pid);
      }
    }
    switch (typeof x) {
      case 'number':
        this.saveNumber(x);
        return false;
      case 'string':
        this.saveStr(x, named);
        return false;
      case 'object':
        if (x === null) {
          w.byte(NONE);
          return false;
        }
        return this.saveObject(x, named);
      case 'boolean':
        if (this.proto >= 2) w.byte(x ? NEWTRUE : NEWFALSE);
        else w.latin1(x ? 'I01\n' : 'I00\n');
        return false;
      case 'bigint':
        if (x >= -2147483648n && x <= 2147483647n) this.saveInt32(Number(x));
        else this.saveBigInt(x);
        return false;
      case 'undefined':
        throw this.fail('undefined cannot be pickled (use null for None)');
      case 'function':
        throw this.fail(`a function (${(x as { name?: string }).name || 'anonymous'}) cannot be pickled`);
      default:
        throw this.fail(`a ${typeof x} cannot be pickled`);
    }
  }

  private savePers(pid: unknown): boolean {
    if (this.proto === 0) {
      if (typeof pid !== 'string' || !isAsciiLine(pid)) {
        throw this.fail('persistent IDs in protocol 0 must be ASCII strings without newlines');
      }
      this.w.latin1(`P${pid}\n`);
      return false;
    }
    const f = this.frame();
    f.k = K_PROG;
    f.a = [
      { s: S_SAVE_NOPID, v: pid, label: '{persistent_id}' },
      { s: S_BYTE, v: BINPERSID, label: '' },
    ];
    this.push(f);
    return true;
  }

  // ---- scalars -------------------------------------------------------------------------------

  /**
   * Default mode: a safe integer is a Python int; anything else a float, including -0 (int 0 would
   * lose the sign) and integral values past 2^53 (1e308 is not meant as a 309-digit int).
   */
  private saveNumber(x: number): void {
    if (this.lossless || !isIntNumber(x)) this.saveFloat(x);
    else if (x >= -2147483648 && x <= 2147483647) this.saveInt32(x);
    else if (this.proto >= 2) this.saveLong53(x);
    else this.saveBigInt(BigInt(x));
  }

  private saveInt32(x: number): void {
    const w = this.w;
    if (this.proto >= 1) {
      if (x >= 0) {
        if (x <= 0xff) w.byte2(BININT1, x);
        else if (x <= 0xffff) w.opU16(BININT2, x);
        else w.opI32(BININT, x);
      } else w.opI32(BININT, x);
    } else {
      w.latin1(`I${x === 0 ? 0 : x}\n`);
    }
  }

  /**
   * LONG1 for an integral number beyond 32 bits (|x| <= 2**53): the minimal little-endian two's
   * complement, which is exactly Python's encode_long, computed without BigInt.
   */
  private saveLong53(x: number): void {
    const w = this.w;
    w.ensure(10);
    const hi = Math.floor(x / 0x100000000);
    w.view.setUint32(w.pos + 2, x - hi * 0x100000000, true);
    w.view.setInt32(w.pos + 6, hi, true);
    this.finishLong1();
  }

  /**
   * The 8 bytes of two's complement just written at pos + 2 become a LONG1: trimmed to the shortest
   * form that keeps the sign (Python's encode_long), with the opcode and length in front.
   */
  private finishLong1(): void {
    const w = this.w;
    const buf = w.buf;
    const at = w.pos + 2;
    let n = 8;
    while (n > 1) {
      const top = buf[at + n - 1] as number;
      const next = (buf[at + n - 2] as number) & 0x80;
      if ((top === 0 && next === 0) || (top === 0xff && next !== 0)) n--;
      else break;
    }
    buf[w.pos] = LONG1;
    buf[w.pos + 1] = n;
    w.pos = at + n;
  }

  /** An int outside the 32-bit range. */
  private saveBigInt(v: bigint): void {
    const w = this.w;
    if (this.proto >= 2 && v >= MIN_I64 && v <= MAX_I64) {
      // Within 64 bits: two's complement through DataView, then the same trimming as saveLong53.
      w.ensure(10);
      w.view.setBigInt64(w.pos + 2, v, true);
      this.finishLong1();
      return;
    }
    if (this.proto < 2) {
      const text = v.toString();
      if (text.length - (v < 0n ? 1 : 0) > INT_MAX_STR_DIGITS) {
        throw this.fail(
          `an int of more than ${INT_MAX_STR_DIGITS} digits cannot be written at protocol ${this.proto} (Python could not read it back); use protocol >= 2`,
        );
      }
      w.latin1(`L${text}L\n`);
      return;
    }
    const neg = v < 0n;
    const mag = neg ? -v : v;
    const hex = mag.toString(16);
    const bitlen = (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0] as string, 16)));
    let n = (bitlen >> 3) + 1;
    const u = neg ? v + (1n << BigInt(n * 8)) : v;
    const h = u.toString(16).padStart(n * 2, '0');
    // Python's encode_long: n = bit_length // 8 + 1 bytes, dropping a redundant 0xff sign byte.
    if (
      neg &&
      n > 1 &&
      h.charCodeAt(0) === 0x66 &&
      h.charCodeAt(1) === 0x66 &&
      parseInt(h[2] as string, 16) >= 8
    )
      n--;
    if (n < 256) {
      w.ensure(2 + n);
      w.rawByte(LONG1);
      w.rawByte(n);
    } else {
      w.ensure(5 + n);
      w.rawByte(LONG4);
      w.rawU32(n);
    }
    const end = h.length;
    for (let j = 0; j < n; j++) {
      const at = end - 2 * (j + 1);
      w.rawByte(parseInt(h.slice(at, at + 2), 16));
    }
  }

  private saveFloat(x: number): void {
    if (this.proto >= 1) this.w.opF64(BINFLOAT, x);
    else this.w.latin1(`F${reprFloat(x)}\n`);
  }

  // ---- str ------------------------------------------------------------------------------------

  /** Write a str; `name` marks an interned string (memoized by value). */
  private saveStr(s: string, name: boolean): void {
    if (name || this.shareStrings || s.length === 0 || (s.length === 1 && s.charCodeAt(0) < 0x100)) {
      const idx = this.strMemo.get(s);
      if (idx !== undefined) {
        this.get(idx);
        return;
      }
      this.writeStr(s);
      const m = this.memoCount++;
      this.strMemo.set(s, m);
      this.put(m);
      return;
    }
    this.writeStr(s);
    this.put(this.memoCount++);
  }

  private writeStr(s: string): void {
    const w = this.w;
    const p = this.proto;
    const n = s.length;
    if (p >= 4) {
      if (n < 86) {
        // At most 255 UTF-8 bytes: SHORT_BINUNICODE, length patched after writing.
        w.ensure(2 + 3 * n);
        w.rawByte(SHORT_BINUNICODE);
        const at = w.pos++;
        w.rawUtf8(s, 3 * n);
        w.buf[at] = w.pos - at - 1;
        return;
      }
      const len = utf8Length(s);
      if (len < 256) {
        w.ensure(2 + len);
        w.rawByte(SHORT_BINUNICODE);
        w.rawByte(len);
      } else if (len > 0xffffffff) {
        w.beginUnframed(9 + len);
        w.rawByte(BINUNICODE8);
        w.rawU64(len);
      } else if (len >= FRAME_SIZE_TARGET) {
        w.beginUnframed(5 + len);
        w.rawByte(BINUNICODE);
        w.rawU32(len);
      } else {
        w.ensure(5 + len);
        w.rawByte(BINUNICODE);
        w.rawU32(len);
      }
      w.rawUtf8(s, len);
      return;
    }
    if (p >= 1) {
      const room = n < 4096 ? 3 * n : utf8Length(s);
      w.ensure(5 + room);
      w.rawByte(BINUNICODE);
      const at = w.pos;
      w.pos += 4;
      w.rawUtf8(s, room);
      w.view.setUint32(at, w.pos - at - 4, true);
      return;
    }
    // Protocol 0: raw-unicode-escape, with \ NUL \n \r \x1a escaped as \uXXXX.
    w.ensure(2 + 6 * n);
    const buf = w.buf;
    let q = w.pos;
    buf[q++] = UNICODE;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[q++] = 0x5c;
          buf[q++] = 0x55; // U
          for (let sh = 28; sh >= 0; sh -= 4) buf[q++] = HEX.charCodeAt((cp >> sh) & 15);
          i++;
          continue;
        }
      }
      if (c >= 0x100 || c === 0x5c || c === 0 || c === 0x0a || c === 0x0d || c === 0x1a) {
        buf[q++] = 0x5c;
        buf[q++] = 0x75; // u
        for (let sh = 12; sh >= 0; sh -= 4) buf[q++] = HEX.charCodeAt((c >> sh) & 15);
      } else buf[q++] = c;
    }
    buf[q++] = 0x0a;
    w.pos = q;
  }

  // ---- bytes ----------------------------------------------------------------------------------

  /** bytes; `id` is the identity to memoize (undefined for a synthesized copy). */
  private saveBytes(b: Uint8Array, id: object | undefined): void {
    const n = b.length;
    const single = n <= 1 ? (n === 0 ? 256 : (b[0] as number)) : -1;
    if (single >= 0) {
      const idx = this.byteSingletons[single];
      if (idx !== undefined) {
        this.get(idx);
        return;
      }
    }
    if (this.proto >= 3) this.writeBytesOp(b);
    else this.writeBytesReduce(b);
    const m = this.memoize(id);
    if (single >= 0) this.byteSingletons[single] = m;
  }

  /** SHORT_BINBYTES / BINBYTES / BINBYTES8 (protocol >= 3). */
  private writeBytesOp(b: Uint8Array): void {
    const w = this.w;
    const n = b.length;
    if (n < 256) {
      w.ensure(2 + n);
      w.rawByte(SHORT_BINBYTES);
      w.rawByte(n);
      w.rawBytes(b);
      return;
    }
    let header: Uint8Array;
    if (n <= 0xffffffff) {
      header = new Uint8Array(5);
      header[0] = BINBYTES;
      new DataView(header.buffer).setUint32(1, n, true);
    } else {
      if (this.proto < 4) throw this.fail('bytes over 4 GiB need protocol 4 or higher');
      header = new Uint8Array(9);
      header[0] = BINBYTES8;
      const dv = new DataView(header.buffer);
      dv.setUint32(1, n % 0x100000000, true);
      dv.setUint32(5, Math.floor(n / 0x100000000), true);
    }
    w.headerAndPayload(header, b);
  }

  /** Protocol <= 2: `bytes()` or `_codecs.encode(latin1_text, 'latin1')`, REDUCE (all atoms). */
  private writeBytesReduce(b: Uint8Array): void {
    const w = this.w;
    if (b.length === 0) {
      this.saveGlobalRef(G_BYTES);
      this.emptyTuple();
      w.byte(REDUCE);
      return;
    }
    this.saveGlobalRef(G_ENCODE);
    if (this.proto < 2) w.byte(MARK);
    // CPython's latin-1 decode gives a one-character singleton for one byte, which a data str would share
    // only if it was a singleton too (made at run time, e.g. by pickle.loads); string literals in Python
    // code are not. We write it as a new str: what pickles of values built from literals show.
    this.writeStr(latin1String(b));
    this.put(this.memoCount++);
    this.saveStr(NAME_LATIN1.value, true);
    if (this.proto >= 2) w.byte(TUPLE2);
    else w.byte(TUPLE);
    this.put(this.memoCount++);
    w.byte(REDUCE);
  }

  private emptyTuple(): void {
    if (this.proto >= 1) this.w.byte(EMPTY_TUPLE);
    else this.w.byte2(MARK, TUPLE);
  }

  private saveByteArray(b: ByteArray | Uint8Array, id: object): boolean {
    if (this.proto >= 5) {
      this.writeByteArray8(b);
      this.memoize(id);
      return false;
    }
    // bytearray(bytes(b)) — the inner bytes is a fresh object (still a singleton when 0/1 long).
    const steps: Step[] = [{ s: S_GLOBAL, v: G_BYTEARRAY, label: '' }];
    if (b.length === 0) steps.push({ s: S_TUPLE_OPEN, v: 0, label: '' });
    else {
      steps.push(
        { s: S_TUPLE_OPEN, v: 1, label: '' },
        { s: S_SAVE, v: new FreshBytes(b), label: '' },
        { s: S_TUPLE_CLOSE, v: 1, label: '' },
      );
    }
    steps.push({ s: S_BYTE, v: REDUCE, label: '' }, { s: S_MEMO, v: id, label: '' });
    this.pushProg(steps, id, true, false);
    return true;
  }

  private writeByteArray8(b: Uint8Array): void {
    const header = new Uint8Array(9);
    header[0] = BYTEARRAY8;
    const dv = new DataView(header.buffer);
    dv.setUint32(1, b.length % 0x100000000, true);
    dv.setUint32(5, Math.floor(b.length / 0x100000000), true);
    this.w.headerAndPayload(header, b);
  }

  private savePickleBuffer(pb: PickleBuffer): void {
    if (this.proto < 5) throw this.fail('PickleBuffer can only be pickled with protocol >= 5');
    const inBand = this.bufferCallback === undefined ? true : Boolean(this.bufferCallback(pb));
    if (inBand) {
      if (pb.readonly) this.writeBytesOp(pb.data);
      else this.writeByteArray8(pb.data);
      this.memoize(pb);
    } else {
      this.w.byte(NEXT_BUFFER);
      if (pb.readonly) this.w.byte(READONLY_BUFFER);
    }
  }

  // ---- globals --------------------------------------------------------------------------------

  /** Write a reference to a global (memoized by name; the caller did the boundary check). */
  private saveGlobalRef(g: PyGlobal): void {
    const module = g.module;
    const name = g.name;
    if (typeof module !== 'string' || typeof name !== 'string' || module === '' || name === '') {
      throw this.fail('a PyGlobal needs a non-empty module and name');
    }
    const key = module + '\n' + name;
    const idx = this.globalMemo.get(key);
    if (idx !== undefined) {
      this.get(idx);
      return;
    }
    const w = this.w;
    const p = this.proto;
    if (p >= 4 && !(viaGetattr(g) && name.includes('.'))) {
      this.saveStr(module, true);
      this.boundary();
      this.saveStr(name, !freshQualname(module, name));
      w.byte(STACK_GLOBAL);
    } else if (name.includes('.')) {
      // Nested qualified names below protocol 4: getattr(parent, last), as CPython writes them.
      const dot = name.lastIndexOf('.');
      this.saveGlobalRef(G_GETATTR);
      this.boundary();
      if (p < 2) w.byte(MARK);
      this.boundary();
      this.saveGlobalRef(new PyGlobal(module, name.slice(0, dot)));
      this.boundary();
      // An attribute name (Enum member) is interned; the tail of a split qualified name is not.
      this.saveStr(name.slice(dot + 1), viaGetattr(g));
      w.byte(p >= 2 ? TUPLE2 : TUPLE);
      this.put(this.memoCount++);
      w.byte(REDUCE);
    } else {
      let m = module;
      let n = name;
      if (p < 3 && this.fixImports) {
        const mapped = REVERSE_NAME_MAPPING.get(m + ' ' + n);
        if (mapped !== undefined) {
          const sp = mapped.indexOf(' ');
          m = mapped.slice(0, sp);
          n = mapped.slice(sp + 1);
        } else {
          const mm = REVERSE_IMPORT_MAPPING.get(m);
          if (mm !== undefined) m = mm;
        }
      }
      if (m.includes('\n') || n.includes('\n'))
        throw this.fail(`global name ${JSON.stringify(key)} contains a newline`);
      if (p < 3 && !(isAscii(m) && isAscii(n))) {
        throw this.fail(
          `can't pickle global identifier '${module}.${name}' using pickle protocol ${p} (not ASCII)`,
        );
      }
      w.byte(GLOBAL);
      this.writeUtf8Line(m);
      this.writeUtf8Line(n);
    }
    const at = this.memoCount++;
    this.globalMemo.set(key, at);
    this.put(at);
  }

  private writeUtf8Line(s: string): void {
    const w = this.w;
    const room = utf8Length(s);
    w.ensure(room + 1);
    w.rawUtf8(s, room);
    w.rawByte(0x0a);
  }

  private boundary(): void {
    const w = this.w;
    if (w.frameStart >= 0 && w.pos - w.frameStart - 9 >= FRAME_SIZE_TARGET) w.commitFrame();
  }

  // ---- objects ---------------------------------------------------------------------------------

  private saveObject(x: object, named: boolean): boolean {
    const idx = this.memo.get(x);
    if (idx !== undefined) {
      this.get(idx);
      return false;
    }
    if (this.userReducers.length > 0) {
      for (const r of this.userReducers) {
        const red = r(x, this.ctx);
        if (red !== undefined) return this.startReduction(x, red, true, '{reduce}');
      }
    }
    const c = (x as { constructor?: unknown }).constructor;
    switch (c) {
      case Array:
        return this.startList(x as unknown[], false, '');
      case Tuple:
        return this.startTuple(x as Tuple, named);
      case Object:
        if (isPlainObject(x)) return this.startObjectDict(x, x, true, '');
        break;
      case Map:
        return this.startMapDict(x as Map<unknown, unknown>, named);
      case Uint8Array:
        this.saveBytes(x as Uint8Array, x);
        return false;
      case ByteArray:
        return this.saveByteArray(x as ByteArray, x);
      case Set:
        return this.startSet(x as Set<unknown>);
      case FrozenSet:
        return this.startFrozenSet(x as FrozenSet<unknown>);
      case PyGlobal:
        this.checkGlobal(x as PyGlobal);
        this.saveGlobalRef(x as PyGlobal);
        return false;
      case PyName:
        this.saveStr((x as PyName).value, true);
        return false;
      case PyFloat:
        this.saveFloat((x as PyFloat).value);
        return false;
      case PyObject:
        return this.startPyObject(x as PyObject);
      case Reduced:
        return this.startReduction(x, (x as Reduced).reduction, true, '{reduce}');
      case FreshBytes:
        this.saveBytes((x as FreshBytes).data, undefined);
        return false;
      case FreshList:
        return this.startList((x as FreshList).items, true, '');
      case PickleBuffer:
        this.savePickleBuffer(x as PickleBuffer);
        return false;
      case Complex:
        return this.saveComplex(x as Complex);
      default:
        if (c !== undefined && c === NodeBuffer) {
          this.saveBytes(x as Uint8Array, x);
          return false;
        }
    }
    const reducers = this.familyReducers;
    for (let i = 0; i < reducers.length; i++) {
      const red = (reducers[i] as Reducer)(x, this.ctx);
      if (red !== undefined) return this.startReduction(x, red, true, '{reduce}');
    }
    return this.saveFallback(x, named);
  }

  /** Values whose class is a subclass of a core class, or one of the rarer value classes. */
  private saveFallback(x: object, named: boolean): boolean {
    if (x instanceof PyObject) return this.startPyObject(x);
    if (x instanceof Tuple) return this.startTuple(x, named);
    if (Array.isArray(x)) return this.startList(x, false, '');
    if (x instanceof Map) return this.startMapDict(x, named);
    if (x instanceof FrozenSet) return this.startFrozenSet(x);
    if (x instanceof Set) return this.startSet(x);
    if (x instanceof ByteArray) return this.saveByteArray(x, x);
    if (x instanceof Uint8Array) {
      this.saveBytes(x, x);
      return false;
    }
    if (x instanceof PyRange) {
      const int = (v: unknown): unknown => {
        if (typeof v === 'number') {
          if (!Number.isInteger(v)) throw this.fail('PyRange bounds must be integers');
          return BigInt(v);
        }
        return v;
      };
      return this.startReduction(
        x,
        { callable: G_RANGE, kind: 'reduce', args: [int(x.start), int(x.stop), int(x.step)] },
        true,
        '',
      );
    }
    if (x instanceof PySlice) {
      return this.startReduction(
        x,
        { callable: G_SLICE, kind: 'reduce', args: [x.start, x.stop, x.step] },
        true,
        '',
      );
    }
    if (x instanceof Complex) return this.saveComplex(x);
    if (x instanceof PickleBuffer) {
      this.savePickleBuffer(x);
      return false;
    }
    if (x instanceof PyGlobal) {
      this.checkGlobal(x);
      this.saveGlobalRef(x);
      return false;
    }
    if (isPlainObject(x)) return this.startObjectDict(x, x, true, '');
    if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer) {
      throw this.fail(
        `a ${typeName(x)} cannot be pickled: use a Uint8Array for bytes (numpy arrays need the numpy reducers)`,
      );
    }
    throw this.fail(
      `an instance of ${typeName(x)} cannot be pickled: register a reducer for its class (options.reducers)`,
    );
  }

  private checkGlobal(g: PyGlobal): void {
    if (this.allowGlobals || this.trustedGlobals.has(g)) return;
    if (this.policy.isExactlySafe(`${g.module}.${g.name}`)) return;
    throw this.fail(
      `global ${g.module}.${g.name} is outside the safe subset; pass allowGlobals: true to write it`,
    );
  }

  private saveComplex(x: Complex): boolean {
    return this.startReduction(
      x,
      { callable: G_COMPLEX, kind: 'reduce', args: [new PyFloat(x.re), new PyFloat(x.im)] },
      true,
      '',
    );
  }

  // ---- containers ----------------------------------------------------------------------------

  private newSeq(src: number, mode: number, n: number, sOp: number, mOp: number): Frame {
    const f = this.frame();
    f.k = K_SEQ;
    f.src = src;
    f.mode = mode;
    f.n = n;
    f.sOp = sOp;
    f.mOp = mOp;
    switch (mode) {
      case B_P0:
        f.groups = n;
        break;
      case B_LIST:
        f.groups = n === 1 ? 1 : Math.ceil(n / BATCH);
        break;
      case B_DICT:
        f.groups = n === 0 ? 0 : n === 1 ? 1 : Math.floor(n / BATCH) + 1;
        break;
      case B_SET:
        f.groups = n === 0 ? 0 : Math.floor(n / BATCH) + 1;
        break;
      default:
        f.groups = Math.ceil(n / BATCH);
    }
    return f;
  }

  private startList(x: readonly unknown[], fresh: boolean, prefix: string): boolean {
    const w = this.w;
    if (this.proto >= 1) w.byte(EMPTY_LIST);
    else w.byte2(MARK, LIST);
    this.memoize(x);
    const n = x.length;
    if (n === 0) return false;
    if (this.allAtoms(x)) {
      this.inlineList(x);
      return false;
    }
    const f = this.newSeq(SRC_ARRAY, this.proto === 0 ? B_P0 : B_LIST, n, APPEND, APPENDS);
    f.v = x;
    f.fresh = fresh;
    f.a = x;
    f.prefix = prefix;
    this.push(f);
    return true;
  }

  // ---- frameless fast paths: containers whose elements are all atoms -------------------------

  /**
   * Every element is an atom that writes without a frame and cannot fail (null, bool, number,
   * string; ints too from protocol 2). Not with persistentId (its result may need a frame).
   */
  private allAtoms(a: readonly unknown[]): boolean {
    if (this.pidFn !== undefined) return false;
    const big = this.proto >= 2;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const t = typeof x;
      if (!(t === 'number' || t === 'string' || t === 'boolean' || x === null || (big && t === 'bigint')))
        return false;
    }
    return true;
  }

  private atomValues(obj: Record<string, unknown>, keys: readonly string[]): boolean {
    if (this.pidFn !== undefined) return false;
    const big = this.proto >= 2;
    for (let i = 0; i < keys.length; i++) {
      const x = obj[keys[i] as string];
      const t = typeof x;
      if (!(t === 'number' || t === 'string' || t === 'boolean' || x === null || (big && t === 'bigint')))
        return false;
    }
    return true;
  }

  /** A list's items, batched as the C pickler batches an exact list. */
  private inlineList(a: readonly unknown[]): void {
    const w = this.w;
    const n = a.length;
    if (this.proto === 0) {
      for (let i = 0; i < n; i++) {
        this.save(a[i]);
        w.byte(APPEND);
      }
      return;
    }
    if (n === 1) {
      this.save(a[0]);
      w.byte(APPEND);
      return;
    }
    for (let i = 0; i < n;) {
      const end = Math.min(i + BATCH, n);
      w.byte(MARK);
      const ints = !this.lossless;
      for (; i < end; i++) {
        const x = a[i];
        // save() for atoms, minus what cannot apply here (no persistentId, no name flag).
        if (w.frameStart >= 0 && w.pos - w.frameStart - 9 >= FRAME_SIZE_TARGET) w.commitFrame();
        if (typeof x === 'number') {
          // 32-bit ints (the bulk of numeric lists) straight to BININT1/BININT2/BININT.
          // (-0 passes `(x | 0) === x` but is the float -0.0)
          if (ints && (x | 0) === x && (x !== 0 || 1 / x > 0)) this.saveInt32(x);
          else this.saveNumber(x);
        } else if (typeof x === 'string') this.saveStr(x, false);
        else this.save(x);
      }
      w.byte(APPENDS);
      if (w.pos >= w.flushAt) w.handOver();
    }
  }

  /** A plain object's entries, batched as the C pickler batches an exact dict. */
  private inlineObjectDict(obj: Record<string, unknown>, keys: readonly string[], names: boolean): void {
    const w = this.w;
    const n = keys.length;
    if (this.proto === 0 || n === 1) {
      for (let i = 0; i < n; i++) {
        const k = keys[i] as string;
        this.named = names;
        this.save(k);
        this.save(obj[k]);
        w.byte(SETITEM);
      }
      return;
    }
    let i = 0;
    // floor(n/1000)+1 batches: a dict of 1000 items ends with an empty MARK SETITEMS, as in CPython.
    for (let g = Math.floor(n / BATCH) + 1; g > 0; g--) {
      const end = Math.min(i + BATCH, n);
      w.byte(MARK);
      for (; i < end; i++) {
        const k = keys[i] as string;
        this.named = names;
        this.save(k);
        this.save(obj[k]);
      }
      w.byte(SETITEMS);
    }
  }

  private dictHeader(): void {
    if (this.proto >= 1) this.w.byte(EMPTY_DICT);
    else this.w.byte2(MARK, DICT);
  }

  /** A dict from an object's own enumerable string keys. `id` is the memo identity (undefined: anonymous). */
  private startObjectDict(obj: object, id: object | undefined, names: boolean, prefix: string): boolean {
    this.dictHeader();
    this.memoize(id);
    const keys = Object.keys(obj);
    const n = keys.length;
    if (n === 0) return false;
    if (this.atomValues(obj as Record<string, unknown>, keys)) {
      this.inlineObjectDict(obj as Record<string, unknown>, keys, names);
      return false;
    }
    const f = this.newSeq(SRC_OBJ, this.proto === 0 ? B_P0 : B_DICT, n, SETITEM, SETITEMS);
    f.v = obj;
    f.fresh = id === undefined;
    f.a = keys;
    f.names = names;
    f.pk = PK_KEYS;
    f.prefix = prefix;
    this.push(f);
    return true;
  }

  private startMapDict(x: ReadonlyMap<unknown, unknown>, names: boolean): boolean {
    this.dictHeader();
    this.memoize(x);
    const n = x.size;
    if (n === 0) return false;
    const f = this.newSeq(SRC_ENTRIES, this.proto === 0 ? B_P0 : B_DICT, n, SETITEM, SETITEMS);
    f.v = x;
    f.it = x.entries();
    f.names = names;
    f.pk = PK_MAP;
    this.push(f);
    return true;
  }

  /** Python set elements must be hashable: refuse lists, dicts, sets and bytearrays up front. */
  private checkElements(x: ReadonlySet<unknown>): void {
    let i = 0;
    for (const e of x) {
      if (!isHashable(e)) {
        throw new PicklingError(
          `unhashable set element: a ${typeName(e)} (Python hashes set elements; a tuple is hashable only if its items are)`,
          `${this.path()}.values()[${i}]`,
          'unhashable',
        );
      }
      i++;
    }
  }

  private startSet(x: Set<unknown>): boolean {
    this.checkElements(x);
    if (this.proto < 4) return this.setAsReduce(x, G_SET);
    this.w.byte(EMPTY_SET);
    this.memoize(x);
    const n = x.size;
    if (n === 0) return false;
    const f = this.newSeq(SRC_ITER, B_SET, n, ADDITEMS, ADDITEMS);
    f.v = x;
    f.it = x.values();
    f.pk = PK_VALUES;
    this.push(f);
    return true;
  }

  private startFrozenSet(x: FrozenSet<unknown>): boolean {
    this.checkElements(x);
    if (this.proto < 4) return this.setAsReduce(x, G_FROZENSET);
    this.checkRecursion(x);
    this.w.byte(MARK);
    const f = this.frame();
    f.k = K_FROZENSET;
    f.v = x;
    f.late = true;
    f.n = x.size;
    f.it = x.values();
    f.pk = PK_VALUES;
    this.push(f);
    return true;
  }

  /** Protocol <= 3: `set(list)` / `frozenset(list)` REDUCE. */
  private setAsReduce(x: Set<unknown>, g: PyGlobal): boolean {
    const items = new FreshList(x);
    return this.pushProg(
      [
        { s: S_GLOBAL, v: g, label: '' },
        { s: S_TUPLE_OPEN, v: 1, label: '' },
        { s: S_SAVE, v: items, label: '.values()' },
        { s: S_TUPLE_CLOSE, v: 1, label: '' },
        { s: S_BYTE, v: REDUCE, label: '' },
        { s: S_MEMO, v: x, label: '' },
      ],
      x,
      true,
      true,
    );
  }

  private startTuple(x: Tuple, names: boolean): boolean {
    const n = x.length;
    if (n === 0) {
      this.emptyTuple();
      return false;
    }
    if (this.allAtoms(x)) {
      // Atoms cannot refer back to the tuple: write it without a frame.
      const p = this.proto;
      const w = this.w;
      if (!(p >= 2 && n <= 3)) w.byte(MARK);
      for (let i = 0; i < n; i++) this.save(x[i]);
      w.byte(p >= 2 && n <= 3 ? (n === 1 ? TUPLE1 : n === 2 ? TUPLE2 : TUPLE3) : TUPLE);
      this.memoize(x);
      return false;
    }
    this.checkRecursion(x);
    if (!(this.proto >= 2 && n <= 3)) this.w.byte(MARK);
    const f = this.frame();
    f.k = K_TUPLE;
    f.v = x;
    f.late = true;
    f.a = x;
    f.n = n;
    // A (dict|None, slots dict) BUILD state: both dicts are attribute dicts (name keys).
    f.names = names && n === 2;
    this.push(f);
    return true;
  }

  // ---- frame steps -----------------------------------------------------------------------------

  private stepSeq(f: Frame): void {
    const w = this.w;
    for (;;) {
      if (f.part === 1) {
        // The key is written; now the value.
        f.part = 0;
        f.pathPart = 1;
        f.i++;
        if (this.save(f.val)) return;
        continue;
      }
      if (f.gOpen && f.i >= f.gEnd) {
        w.byte(f.single ? f.sOp : f.mOp);
        f.gOpen = false;
      }
      if (!f.gOpen) {
        if (f.groups === 0) {
          this.pop();
          return;
        }
        f.groups--;
        const start = f.i;
        if (f.mode === B_P0) {
          f.gEnd = start + 1;
          f.single = true;
        } else {
          f.gEnd = Math.min(start + BATCH, f.n);
          f.single =
            f.mode === B_LIST || f.mode === B_DICT
              ? f.n === 1
              : f.mode === B_ITER
                ? f.gEnd - start === 1
                : false;
        }
        if (!f.single) w.byte(MARK);
        f.gOpen = true;
        continue;
      }
      switch (f.src) {
        case SRC_ARRAY: {
          const a = f.a as readonly unknown[];
          const end = f.gEnd;
          while (f.i < end) {
            const x = a[f.i];
            f.cur = f.i++;
            if (this.save(x)) return;
          }
          break;
        }
        case SRC_ITER: {
          const r = (f.it as Iterator<unknown>).next();
          f.cur = f.i++;
          if (this.save(r.value)) return;
          break;
        }
        case SRC_OBJ: {
          const k = (f.a as readonly string[])[f.i] as string;
          f.cur = f.i;
          f.key = k;
          f.val = (f.v as Record<string, unknown>)[k];
          f.part = 1;
          f.pathPart = 0;
          if (f.names) this.named = true;
          if (this.save(k)) return; // only a persistent id pushes a frame here
          break;
        }
        default: {
          // SRC_ENTRIES / SRC_PAIRS
          const e =
            f.src === SRC_ENTRIES
              ? ((f.it as Iterator<unknown>).next().value as unknown)
              : (f.a as readonly unknown[])[f.i];
          f.cur = f.i;
          f.pathPart = 0;
          if (!Array.isArray(e) || e.length !== 2) {
            f.key = undefined;
            throw this.fail('dict items must be [key, value] pairs');
          }
          const k = e[0] as unknown;
          f.key = k;
          f.val = e[1];
          f.part = 1;
          if (!isHashable(k)) {
            throw this.fail(
              `unhashable dict key: a ${typeName(k)} (Python hashes dict keys; a tuple is hashable only if its items are)`,
              'unhashable',
            );
          }
          if (f.names && typeof k === 'string') this.named = true;
          if (this.save(k)) return;
        }
      }
    }
  }

  private stepTuple(f: Frame): void {
    const a = f.a as readonly unknown[];
    const n = f.n;
    while (f.i < n) {
      const x = a[f.i];
      f.cur = f.i++;
      if (f.names && (x instanceof Map || isPlainObject(x))) this.named = true;
      if (this.save(x)) return;
    }
    const w = this.w;
    const idx = this.memo.get(f.v as object);
    const p = this.proto;
    if (idx !== undefined) {
      // Reached recursively and already written by the inner save: drop ours, fetch that one.
      if (p >= 2 && n <= 3) for (let j = 0; j < n; j++) w.byte(POP);
      else if (p >= 1) w.byte(POP_MARK);
      else for (let j = 0; j <= n; j++) w.byte(POP);
      this.get(idx);
    } else {
      w.byte(p >= 2 && n <= 3 ? (n === 1 ? TUPLE1 : n === 2 ? TUPLE2 : TUPLE3) : TUPLE);
      this.memoize(f.v);
    }
    this.pop();
  }

  private stepFrozenSet(f: Frame): void {
    const it = f.it as Iterator<unknown>;
    while (f.i < f.n) {
      const r = it.next();
      f.cur = f.i++;
      if (this.save(r.value)) return;
    }
    const idx = this.memo.get(f.v as object);
    if (idx !== undefined) {
      this.w.byte(POP_MARK);
      this.get(idx);
    } else {
      this.w.byte(FROZENSET);
      this.memoize(f.v);
    }
    this.pop();
  }

  // ---- reductions ------------------------------------------------------------------------------

  private pushProg(prog: Step[], id: object | undefined, trusted: boolean, late: boolean): boolean {
    if (late && id !== undefined) this.checkRecursion(id);
    const f = this.frame();
    f.k = K_PROG;
    f.a = prog;
    f.v = id;
    f.late = late && id !== undefined;
    f.trusted = trusted;
    this.push(f);
    return true;
  }

  private stepProg(f: Frame): void {
    const prog = f.a as readonly Step[];
    const w = this.w;
    const p = this.proto;
    while (f.i < prog.length) {
      const step = prog[f.i] as Step;
      f.cur = f.i++;
      switch (step.s) {
        case S_SAVE:
          if (this.save(step.v)) return;
          break;
        case S_SAVE_NOPID:
          this.skipPid = true;
          if (this.save(step.v)) return;
          break;
        case S_CALLABLE: {
          const c = step.v;
          this.boundary();
          if (c instanceof PyGlobal) {
            if (f.trusted) this.trustedGlobals.add(c);
            this.saveGlobalRef(c);
          } else if (c instanceof Reduced) {
            // A reduced callable shared by identity (not in the Reduction type; accepted at run time).
            this.skipPid = this.pidFn !== undefined;
            if (this.save(c)) return;
          } else if (c !== null && typeof c === 'object' && 'callable' in c) {
            const red = c as Reduction;
            if (this.startReduction(new Reduced(red), red, f.trusted, step.label)) return;
          } else
            throw this.fail(`a reduction's callable must be a PyGlobal or a Reduction, got ${typeName(c)}`);
          break;
        }
        case S_GLOBAL:
          this.boundary();
          this.saveGlobalRef(step.v as PyGlobal);
          break;
        case S_NAME:
          this.boundary();
          this.saveStr(step.v as string, true);
          break;
        case S_BYTE:
          w.byte(step.v as number);
          break;
        case S_NONE:
          this.boundary();
          w.byte(NONE);
          break;
        case S_TUPLE_OPEN: {
          const n = step.v as number;
          this.boundary();
          if (n === 0) this.emptyTuple();
          else if (!(p >= 2 && n <= 3)) w.byte(MARK);
          break;
        }
        case S_TUPLE_CLOSE: {
          const n = step.v as number;
          if (n > 0) {
            w.byte(p >= 2 && n <= 3 ? (n === 1 ? TUPLE1 : n === 2 ? TUPLE2 : TUPLE3) : TUPLE);
            this.put(this.memoCount++);
          }
          break;
        }
        case S_MEMO: {
          const o = step.v as object | undefined;
          const idx = o === undefined ? undefined : this.memo.get(o);
          if (idx !== undefined) {
            w.byte(POP);
            this.get(idx);
          } else this.memoize(o);
          break;
        }
        case S_ITEMS: {
          const items = Array.from(step.v as Iterable<unknown>);
          if (items.length > 0) {
            const s = this.newSeq(SRC_ARRAY, p === 0 ? B_P0 : B_ITER, items.length, APPEND, APPENDS);
            s.a = items;
            s.fresh = true;
            s.prefix = step.label;
            f.cur = -1; // the child frame names its elements itself
            this.push(s);
            return;
          }
          break;
        }
        case S_DICTITEMS: {
          const pairs = Array.from(step.v as Iterable<unknown>);
          if (pairs.length > 0) {
            const s = this.newSeq(SRC_PAIRS, p === 0 ? B_P0 : B_ITER, pairs.length, SETITEM, SETITEMS);
            s.a = pairs;
            s.fresh = true;
            s.pk = PK_MAP;
            s.prefix = step.label;
            f.cur = -1;
            this.push(s);
            return;
          }
          break;
        }
        case S_STATE:
          // Attribute dicts: string keys are interned names.
          if (step.v !== null && typeof step.v === 'object') this.named = true;
          if (this.save(step.v)) return;
          break;
        case S_OWNPROPS:
          this.boundary();
          f.cur = -1;
          if (this.startObjectDict(step.v as object, undefined, true, '')) return;
          break;
        case S_KWARGS: {
          const kw = step.v;
          this.boundary();
          if (kw instanceof Map) {
            const idx = this.memo.get(kw);
            if (idx !== undefined) this.get(idx);
            else if (this.startMapDict(kw, true)) return;
          } else if (kw === undefined || kw === null) {
            this.dictHeader();
            this.memoize(undefined);
          } else if (isPlainObject(kw)) {
            if (this.startObjectDict(kw, kw, true, '')) return;
          } else throw this.fail(`keyword arguments must be a Map, got ${typeName(kw)}`);
          break;
        }
      }
    }
    this.pop();
  }

  /**
   * Write `x` as `red`. `trusted`: the callable may be written without allowGlobals (built-in
   * families, the user's own reducers). `label` prefixes the steps' names in error paths.
   */
  private startReduction(x: object, red: Reduction, trusted: boolean, label: string): boolean {
    if (red === null || typeof red !== 'object' || !Array.isArray(red.args)) {
      throw this.fail(`a reducer returned an invalid Reduction for ${typeName(x)}`);
    }
    return this.pushProg(
      this.program(x, red, label, '.args', '.kwargs', '.state', '.listitems', '.dictitems', '.callable'),
      x,
      trusted,
      true,
    );
  }

  private startPyObject(o: PyObject): boolean {
    const cls = o.__class__;
    if (!(cls instanceof PyGlobal))
      throw this.fail('a PyObject without a PyGlobal __class__ cannot be pickled');
    if (!this.allowGlobals) {
      throw this.fail(
        `an object of class ${cls.module}.${cls.name} re-creates a Python global; pass allowGlobals: true to write it`,
      );
    }
    let kind = o.__kind__;
    let args = o.__args__ instanceof Tuple ? o.__args__ : Tuple.from_(Array.from(o.__args__ ?? []));
    if (kind === 'inst' || kind === 'obj') kind = args.length > 0 ? 'reduce' : 'newobj';
    let callable: PyGlobal = cls;
    if (
      (o as unknown as { __reconstructor__?: unknown }).__reconstructor__ === true &&
      kind === 'reduce' &&
      args.length === 2
    ) {
      // A builtin subclass the decoder rebuilt from copyreg._reconstructor(cls, base, state) (protocols 0-1).
      callable = G_RECONSTRUCTOR;
      args = Tuple.from_([cls, args[0], args[1]]);
    }
    const red: { -readonly [K in keyof Reduction]: Reduction[K] } = { callable, kind, args };
    if (o.__kwargs__ !== undefined) red.kwargs = o.__kwargs__ as ReadonlyMap<string, unknown>;
    const owner = (o as unknown as { __newowner__?: unknown }).__newowner__;
    if (owner instanceof PyGlobal) red.newOwner = owner;
    if (o.__items__ !== undefined) red.listitems = o.__items__;
    if (o.__dictitems__ !== undefined) red.dictitems = o.__dictitems__;
    if (o.__state__ !== undefined) red.state = slotsState(o) ?? o.__state__;
    else if (Object.keys(o).length > 0) red.state = OWN_PROPS;
    return this.pushProg(
      this.program(
        o,
        red,
        '',
        '.__args__',
        '.__kwargs__',
        '.__state__',
        '.__items__',
        '.__dictitems__',
        '.__class__',
      ),
      o,
      true,
      true,
    );
  }

  /** The steps of Python's save_reduce for `red`, object `x`. */
  private program(
    x: object,
    red: Reduction,
    prefix: string,
    argsL: string,
    kwL: string,
    stateL: string,
    itemsL: string,
    dictL: string,
    callL: string,
  ): Step[] {
    const p = this.proto;
    const steps: Step[] = [];
    const args = red.args;
    const call = (c: unknown): void => {
      steps.push({ s: S_CALLABLE, v: c, label: prefix + callL });
    };
    const argItems = (): void => {
      for (let i = 0; i < args.length; i++)
        steps.push({ s: S_SAVE, v: args[i], label: `${prefix}${argsL}[${i}]` });
    };
    const argTuple = (): void => {
      if (args instanceof Tuple) {
        steps.push({ s: S_SAVE, v: args, label: prefix + argsL });
        return;
      }
      steps.push({ s: S_TUPLE_OPEN, v: args.length, label: '' });
      argItems();
      steps.push({ s: S_TUPLE_CLOSE, v: args.length, label: '' });
    };
    const kind = red.kind;
    if (kind === 'newobj' && p >= 2) {
      call(red.callable);
      argTuple();
      steps.push({ s: S_BYTE, v: NEWOBJ, label: '' });
    } else if (kind === 'newobj') {
      if (args.length === 0) {
        // copyreg._reconstructor(cls, object, None): what CPython writes for plain objects below 2.
        steps.push({ s: S_GLOBAL, v: G_RECONSTRUCTOR, label: '' }, { s: S_TUPLE_OPEN, v: 3, label: '' });
        call(red.callable);
        steps.push({ s: S_GLOBAL, v: G_OBJECT, label: '' }, { s: S_NONE, v: null, label: '' });
        steps.push({ s: S_TUPLE_CLOSE, v: 3, label: '' });
      } else {
        steps.push(
          { s: S_GLOBAL, v: G_NEWOBJ, label: '' },
          { s: S_TUPLE_OPEN, v: args.length + 1, label: '' },
        );
        call(red.callable);
        argItems();
        steps.push({ s: S_TUPLE_CLOSE, v: args.length + 1, label: '' });
      }
      steps.push({ s: S_BYTE, v: REDUCE, label: '' });
    } else if (kind === 'newobj_ex' && p >= 4) {
      call(red.callable);
      argTuple();
      steps.push({ s: S_KWARGS, v: red.kwargs, label: prefix + kwL });
      steps.push({ s: S_BYTE, v: NEWOBJ_EX, label: '' });
    } else if (kind === 'newobj_ex' && p >= 2) {
      // CPython: functools.partial(cls.__new__, cls, *args, **kwargs)() — partial pickled with its state.
      const cls = red.callable;
      if (!(cls instanceof PyGlobal)) throw this.fail('a newobj_ex reduction needs a PyGlobal class');
      this.trustedGlobals.add(cls);
      const owner = red.newOwner ?? cls;
      this.trustedGlobals.add(owner);
      // One object per owner, as in Python (`object.__new__` is the same method every time: memoized).
      const ownerKey = `${owner.module}.${owner.name}`;
      let bound = this.newMethods.get(ownerKey);
      if (bound === undefined) {
        // A builtin's method reduces with the interned name; a Python class's `X.__new__` is saved as
        // the nested global X.__new__, whose last part CPython splits off as a fresh (unshared) str.
        const attr = owner.module === 'builtins' ? NAME_NEW : '__new__';
        bound = new Reduced({ callable: G_GETATTR, kind: 'reduce', args: [owner, attr] });
        this.newMethods.set(ownerKey, bound);
      }
      const kw = red.kwargs;
      let kwDict: Map<unknown, unknown> | null = null;
      if (kw !== undefined && kw.size > 0) {
        kwDict = new Map();
        for (const [k, v] of kw) kwDict.set(typeof k === 'string' ? new PyName(k) : k, v);
      }
      const partial = new Reduced({
        callable: G_PARTIAL,
        kind: 'reduce',
        args: [bound],
        state: Tuple.from_([bound, Tuple.from_([cls, ...args]), kwDict, null]),
      });
      steps.push({ s: S_SAVE, v: partial, label: prefix + callL });
      steps.push({ s: S_TUPLE_OPEN, v: 0, label: '' }, { s: S_BYTE, v: REDUCE, label: '' });
    } else if (kind === 'newobj_ex') {
      steps.push({ s: S_GLOBAL, v: G_NEWOBJ_EX, label: '' }, { s: S_TUPLE_OPEN, v: 3, label: '' });
      call(red.callable);
      argTuple();
      steps.push({ s: S_KWARGS, v: red.kwargs, label: prefix + kwL });
      steps.push({ s: S_TUPLE_CLOSE, v: 3, label: '' }, { s: S_BYTE, v: REDUCE, label: '' });
    } else if (kind === 'reduce') {
      call(red.callable);
      argTuple();
      steps.push({ s: S_BYTE, v: REDUCE, label: '' });
    } else {
      throw this.fail(`unknown reduction kind ${JSON.stringify(kind)}`);
    }
    steps.push({ s: S_MEMO, v: x, label: '' });
    if (red.listitems !== undefined && red.listitems !== null) {
      steps.push({ s: S_ITEMS, v: red.listitems, label: prefix + itemsL });
    }
    if (red.dictitems !== undefined && red.dictitems !== null) {
      steps.push({ s: S_DICTITEMS, v: red.dictitems, label: prefix + dictL });
    }
    const state = red.state;
    if (state !== undefined && state !== null) {
      if (state === OWN_PROPS) steps.push({ s: S_OWNPROPS, v: x, label: '' });
      else steps.push({ s: S_STATE, v: state, label: prefix + stateL });
      steps.push({ s: S_BYTE, v: BUILD, label: '' });
    }
    return steps;
  }
}

/** A dict-like state part as [key, value] pairs (Map or plain object); undefined for anything else. */
function dictEntries(d: unknown): [unknown, unknown][] | undefined {
  if (d instanceof Map) return [...d.entries()];
  if (isPlainObject(d)) return Object.entries(d);
  return undefined;
}

/**
 * A `(dict | None, slots)` state rebuilt from the object's current attributes: the decoder copies
 * both parts onto the object as properties, and the caller may have changed them since. Slot names
 * are the keys of the original slots dict; every other property belongs to the `__dict__` part.
 * Undefined (use `__state__` as it is) when the object has no properties at all.
 */
function slotsState(o: PyObject): Tuple | undefined {
  const st = o.__state__;
  if (!(st instanceof Tuple) || st.length !== 2) return undefined;
  const first = st[0] === null ? [] : dictEntries(st[0]);
  const slots = dictEntries(st[1]);
  if (first === undefined || slots === undefined) return undefined;
  if (![...first, ...slots].every(([k]) => typeof k === 'string')) return undefined;
  const own = o as unknown as Record<string, unknown>;
  // A state set by hand on an object without properties is taken as given.
  if (Object.keys(own).length === 0) return undefined;
  const slotNames = new Set(slots.map(([k]) => k as string));
  const slotPart = new Map<unknown, unknown>();
  const dictPart = new Map<unknown, unknown>();
  for (const k of Object.keys(own)) {
    if (slotNames.has(k)) slotPart.set(k, own[k]);
    else dictPart.set(k, own[k]);
  }
  return Tuple.from_([st[0] === null && dictPart.size === 0 ? null : dictPart, slotPart]);
}

/** Marker: the state is the PyObject's own enumerable properties. */
const OWN_PROPS: unique symbol = Symbol('ownProps');

/** A list the writer made (set items at protocol <= 3): written as a list, memoized anonymously. */
class FreshList {
  readonly items: unknown[];
  constructor(items: Iterable<unknown>) {
    this.items = Array.from(items);
  }
}

/** A bytes copy the writer made (the `bytes(ba)` inside `bytearray(...)` below protocol 5). */
class FreshBytes {
  constructor(readonly data: Uint8Array) {}
}

/** Pickle `value` with `options`. */
export function encode(value: unknown, options?: DumpOptions): Uint8Array {
  return new Encoder(options).encode(value);
}

/** Pickle `value` into `sink` as it is produced (dump of large values: the file is never held whole). */
export function encodeTo(value: unknown, options: DumpOptions | undefined, sink: ByteSink): void {
  new Encoder(options, sink).encode(value);
}

/**
 * An encoder and a frame kept alive for the life of the module: the optimised code embeds their
 * hidden classes, and when no instance survives a major GC V8 discards that code and recompiles
 * (the decoder's MACHINE_ANCHOR has the measurements).
 */
export const ENCODER_ANCHOR: readonly [Encoder, Frame] = [new Encoder({}), new Frame()];
