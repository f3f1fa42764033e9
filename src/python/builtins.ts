/**
 * Handlers for the builtins and the pickle-support globals CPython itself writes: set/frozenset/bytes/
 * bytearray/complex/range/slice reducers, `_codecs.encode` (bytes at protocol <= 2),
 * `copyreg._reconstructor` (plain objects at protocol 0/1) and `getattr(cls, name)` (Enum members in
 * Python 3.12+), which is resolved to the global `cls.name` without executing anything.
 */
import {
  CALL,
  SET_STATE,
  handlerTable,
  type Callable,
  type DecodeContext,
  type SetStateable,
} from '../unpickle/registry.js';
import { defineFamily } from '../family.js';
import { reduceCall, type Reducer } from '../pickle/reducers.js';
import {
  ByteArray,
  Complex,
  FrozenSet,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  Tuple,
  isHashable,
  isPlainObject,
} from './values.js';
import { encodeUtf8 } from '../bytes/text.js';

/** The items of an iterable argument Python would accept here (list, tuple, set, str, bytes). */
function iterableItems(v: unknown, ctx: DecodeContext): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (v instanceof Map) return [...v.keys()];
  if (typeof v === 'string') return [...v];
  if (v instanceof Uint8Array) return Array.from(v, (b) => (ctx.lossless ? BigInt(b) : b));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.keys(v);
  throw ctx.error('expected an iterable argument');
}

/** `str` whose chars are all < 256, as bytes (Python's latin-1 encode). */
function latin1Bytes(s: string, ctx: DecodeContext): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw ctx.error(`'latin-1' codec can't encode character at position ${i}`);
    out[i] = c;
  }
  return out;
}

function asciiBytes(s: string, ctx: DecodeContext): Uint8Array {
  const out = latin1Bytes(s, ctx);
  if (out.some((b) => b > 127)) throw ctx.error("'ascii' codec can't encode the argument");
  return out;
}

/** The items of an iterable for a set: each must be hashable, as Python requires. */
function hashableItems(v: unknown, ctx: DecodeContext): unknown[] {
  const items = iterableItems(v, ctx);
  for (const x of items) if (!isHashable(x)) throw ctx.error('unhashable set element');
  return items;
}

/** Encode `s` with a Python codec name (the ones pickles use). */
function encodeWith(s: string, encoding: string, ctx: DecodeContext): Uint8Array {
  // 'latin1' is what Python 3 writes for every bytes object at protocols 0-2: no normalising for it.
  if (encoding === 'latin1') return latin1Bytes(s, ctx);
  const e = encoding.toLowerCase().replace(/_/g, '-');
  if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1' || e === 'iso8859-1' || e === 'l1')
    return latin1Bytes(s, ctx);
  if (e === 'utf-8' || e === 'utf8') return encodeUtf8(s);
  if (e === 'ascii' || e === 'us-ascii') return asciiBytes(s, ctx);
  throw ctx.error(`unsupported codec ${JSON.stringify(encoding)}`);
}

function number(v: unknown, ctx: DecodeContext): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw ctx.error('expected a number');
}

/** The largest `bytes(n)` / `bytearray(n)` built from a bare size (16 MiB). */
const ZEROED_BYTES_MAX = 1 << 24;

/** `bytes(x)` / `bytearray(x[, encoding])` argument conversion. */
function bytesFrom(args: Tuple, ctx: DecodeContext): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const a = args[0];
  if (typeof a === 'string') {
    if (args.length < 2 || typeof args[1] !== 'string')
      throw ctx.error('string argument without an encoding');
    return encodeWith(a, args[1], ctx);
  }
  if (a instanceof Uint8Array) return a;
  if (typeof a === 'number' || typeof a === 'bigint' || typeof a === 'boolean') {
    // bytes(n) / bytearray(n): n zero bytes (a bool is an int here, as in Python). CPython's pickler
    // never writes this call (it pickles the content), so a size beyond ZEROED_BYTES_MAX is refused:
    // a few bytes of input must not allocate gigabytes.
    const n = Number(a);
    if (!Number.isSafeInteger(n) || n < 0) throw ctx.error('invalid bytes size');
    if (n > ZEROED_BYTES_MAX)
      throw ctx.error(`bytes(${n}) would allocate more than ${ZEROED_BYTES_MAX} zero bytes`);
    return new Uint8Array(n);
  }
  const items = iterableItems(a, ctx);
  const out = new Uint8Array(items.length);
  items.forEach((x, i) => {
    const b = number(x, ctx);
    if (!Number.isInteger(b) || b < 0 || b > 255) throw ctx.error('bytes must be in range(0, 256)');
    out[i] = b;
  });
  return out;
}

function toByteArray(b: Uint8Array): ByteArray {
  const out = new ByteArray(b.length);
  out.set(b);
  return out;
}

/** The `__new__` of a class, reached as `getattr(cls, '__new__')` or the dotted global `cls.__new__`. */
function newOwner(func: unknown): PyGlobal | undefined {
  if (!(func instanceof PyGlobal) || !func.name.endsWith('.__new__')) return undefined;
  return new PyGlobal(func.module, func.name.slice(0, -'.__new__'.length));
}

/** A dict argument (plain object or Map) as a Map, or undefined when it is not a dict. */
function asMap(v: unknown): Map<unknown, unknown> | undefined {
  if (v instanceof Map) return v;
  if (isPlainObject(v)) return new Map(Object.entries(v));
  return undefined;
}

/**
 * `functools.partial(func, *args, **keywords)`, kept inert. CPython pickles it as `partial(func)` +
 * BUILD `(func, args, keywords, namespace)`, and writes objects of classes with `__getnewargs_ex__`
 * at protocols 2-3 as `partial(cls.__new__, cls, *args, **kwargs)()`: calling such a partial creates
 * the object exactly as NEWOBJ_EX would (nothing of the class runs), so it decodes to that object.
 */
export class PyPartial implements SetStateable, Callable {
  func: unknown;
  args: Tuple;
  keywords: Map<unknown, unknown>;
  /** The partial's own `__dict__` (None in practice). */
  namespace: unknown = null;

  constructor(func: unknown, args: Tuple = new Tuple(), keywords: Map<unknown, unknown> = new Map()) {
    this.func = func;
    this.args = args;
    this.keywords = keywords;
  }

  [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    // CPython's partial.__setstate__: a 4-tuple (func, args tuple, kwds dict or None, dict or None).
    if (!(state instanceof Tuple) || state.length !== 4) throw ctx.error('partial state must be a 4-tuple');
    const [func, args, kw, ns] = state;
    if (!(args instanceof Tuple)) throw ctx.error('partial state: args must be a tuple');
    const keywords = kw === null ? new Map<unknown, unknown>() : asMap(kw);
    if (keywords === undefined) throw ctx.error('partial state: keywords must be a dict or None');
    this.func = func;
    this.args = args;
    this.keywords = keywords;
    this.namespace = ns;
    return undefined;
  }

  [CALL](callArgs: Tuple, ctx: DecodeContext): unknown {
    const all = Tuple.from_([...this.args, ...callArgs]);
    const owner = newOwner(this.func);
    const cls = all[0];
    if (owner !== undefined && cls instanceof PyGlobal && ctx.newObject) {
      const obj = ctx.newObject(cls, Tuple.from_(all.slice(1)), this.keywords);
      // The writer names the same __new__ again (CPython names the class defining it, often object).
      if (obj instanceof PyObject && !(owner.module === cls.module && owner.name === cls.name)) {
        Object.defineProperty(obj, '__newowner__', { value: owner, enumerable: false, configurable: true });
      }
      return obj;
    }
    if (!(this.func instanceof PyGlobal))
      throw ctx.error('a partial of something that is not a global cannot be called');
    if (this.keywords.size === 0 && ctx.reduce) return ctx.reduce(this.func, all);
    return new PyObject(this.func, 'reduce', all, this.keywords);
  }
}

/** How the builtins family writes the values it owns beyond core data: `functools.partial`. */
const builtinsReducer: Reducer = (value) => {
  if (!(value instanceof PyPartial)) return undefined;
  const kw = value.keywords.size > 0 ? value.keywords : null;
  return reduceCall('functools', 'partial', [value.func], {
    state: Tuple.from_([value.func, value.args, kw, value.namespace]),
  });
};

const BUILTIN_GLOBALS = handlerTable((register) => {
  register('builtins.set', {
    call: (args, ctx) => new Set(args.length ? hashableItems(args[0], ctx) : []),
  });
  register('builtins.frozenset', {
    call: (args, ctx) => new FrozenSet(args.length ? hashableItems(args[0], ctx) : []),
  });
  // list(x), tuple(x), dict(x): CPython's pickler never writes these calls, other writers (and
  // hand-made streams) do, and Python builds the container; an unknown global would stay inert.
  register('builtins.list', {
    call: (args, ctx) => (args.length ? [...iterableItems(args[0], ctx)] : []),
  });
  register('builtins.tuple', {
    call: (args, ctx) => Tuple.from_(args.length ? iterableItems(args[0], ctx) : []),
  });
  register('builtins.dict', {
    call: (args, ctx) => {
      if (args.length === 0) return ctx.makeDict([]);
      const a = args[0];
      if (a instanceof Map) return ctx.makeDict(a);
      if (isPlainObject(a)) return ctx.makeDict(Object.entries(a));
      const pairs: [unknown, unknown][] = [];
      for (const item of iterableItems(a, ctx)) {
        const kv = typeof item === 'string' || item instanceof Uint8Array ? [...item] : item;
        if (!Array.isArray(kv) || kv.length !== 2) throw ctx.error('dict() sequence elements must be pairs');
        if (!isHashable(kv[0])) throw ctx.error('unhashable dict key');
        pairs.push([kv[0], kv[1]]);
      }
      return ctx.makeDict(pairs);
    },
  });
  register('builtins.bytes', {
    call: (args, ctx) => {
      const b = bytesFrom(args, ctx);
      return b instanceof ByteArray ? new Uint8Array(b) : b;
    },
  });
  register('builtins.bytearray', { call: (args, ctx) => toByteArray(bytesFrom(args, ctx)) });
  register('builtins.complex', {
    call: (args, ctx) =>
      new Complex(args.length > 0 ? number(args[0], ctx) : 0, args.length > 1 ? number(args[1], ctx) : 0),
  });
  register('builtins.range', {
    call: (args, ctx) => {
      const ints = args.map((a) => ctx.toInt(a));
      const [start, stop, step] = ints.length === 1 ? [0, ints[0], 1] : [ints[0], ints[1], ints[2] ?? 1];
      if (start === undefined || stop === undefined || step === undefined)
        throw ctx.error('range expects 1 to 3 ints');
      const wrap = (v: number | bigint) => (ctx.lossless ? BigInt(v) : v);
      return new PyRange(wrap(start), wrap(stop), wrap(step));
    },
  });
  register('builtins.slice', {
    call: (args) =>
      args.length === 1
        ? new PySlice(null, args[0], null)
        : new PySlice(args[0] ?? null, args[1] ?? null, args[2] ?? null),
  });
  register('_codecs.encode', {
    call: (args, ctx) => {
      const [s, enc] = args;
      if (typeof s !== 'string') throw ctx.error('_codecs.encode expects a str');
      return encodeWith(s, typeof enc === 'string' ? enc : 'utf-8', ctx);
    },
  });
  register('copyreg._reconstructor', {
    call: (args, ctx) => {
      const [cls, base, state] = args;
      if (!(cls instanceof PyGlobal)) throw ctx.error('_reconstructor expects a class');
      if (
        base instanceof PyGlobal &&
        base.module === 'builtins' &&
        base.name === 'object' &&
        state === null
      ) {
        // object.__new__(cls): the same object NEWOBJ with () makes at protocol >= 2 (a handler's
        // value for known classes such as uuid.UUID, else an inert instance); BUILD supplies its state.
        return ctx.newObject ? ctx.newObject(cls, new Tuple()) : new PyObject(cls, 'newobj', new Tuple());
      }
      // Subclass of a builtin (dict, list, int...): keep the base and its initial value as arguments,
      // and mark the object so the writer re-emits this very call (CPython's protocol 0/1 form).
      const obj = new PyObject(cls, 'reduce', Tuple.from_([base, state]));
      Object.defineProperty(obj, '__reconstructor__', { value: true, enumerable: false });
      return obj;
    },
  });
  register('functools.partial', {
    call: (args, ctx) => {
      if (args.length === 0) throw ctx.error('partial() needs a function');
      return new PyPartial(args[0], Tuple.from_(args.slice(1)));
    },
  });
  register('builtins.getattr', {
    call: (args, ctx) => {
      const [target, attr] = args;
      if (!(target instanceof PyGlobal) || typeof attr !== 'string' || args.length !== 2) {
        throw ctx.error('refusing getattr on anything but a global and a name (it can reach arbitrary code)');
      }
      // Resolve through the same policy as any global, so getattr(os, 'system') is still refused.
      const g = ctx.resolveGlobal(target.module, `${target.name}.${attr}`);
      // Marked so the writer writes getattr(cls, name) again (Python 3.12+ Enum members), not a dotted global.
      if (g instanceof PyGlobal && !Object.prototype.hasOwnProperty.call(g, 'viaGetattr')) {
        Object.defineProperty(g, 'viaGetattr', { value: true, enumerable: false });
      }
      return g;
    },
  });
});

/**
 * The builtins family: the builtin types and the pickle-support globals CPython itself writes
 * (`_codecs.encode`, `copyreg._reconstructor`, `getattr`, `functools.partial(cls.__new__, …)`).
 * Their encoding is mostly the encoder's own (core data); the reducer writes partials back.
 */
export const BUILTINS_FAMILY = defineFamily({
  name: 'builtins',
  globals: BUILTIN_GLOBALS,
  reduce: builtinsReducer,
});
