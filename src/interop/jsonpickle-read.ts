/**
 * `fromJsonPickle`: read what Python's jsonpickle 3.x writes (`jsonpickle.encode(v, keys=True)`, with
 * or without the numpy handlers) into the values `loads(pickle.dumps(v), {lossless: true})` gives
 * (or the default mode's friendlier values).
 *
 * Nothing is executed. `py/object`, `py/reduce`, `py/type` and `py/function` resolve through the
 * decoder's global registry exactly as the pickle opcodes do: known classes are rebuilt (datetime,
 * Decimal, OrderedDict, numpy arrays, ...), everything else becomes an inert PyObject/PyGlobal, and
 * dangerous globals are refused. `py/repr` (which jsonpickle evaluates with `eval`) is refused.
 *
 * Object identity follows jsonpickle's unpickler: `py/id` n is the n-th object it registers (lists,
 * dicts, `py/object` and `py/reduce` values, in document pre-order; `json://` dict keys after the
 * plain ones). The restorer runs on an explicit stack, so deep nesting cannot overflow the JS stack.
 */
import { PickleError, UnpicklingError } from '../errors.js';
import { FrozenSet, PyGlobal, PyObject, Tuple, isPlainObject, setOwn } from '../python/values.js';
import { familySet } from '../families.js';
import type { Family, FamilySet } from '../family.js';
import { SET_STATE, hasSetState, type DecodeContext, type GlobalHandler } from '../unpickle/registry.js';
import { JFloat, JInt, JObject, JsonSyntaxError, parseJson, type JNode } from './json-text.js';
import {
  JSON_KEY,
  NAME_FIXES,
  RESERVED,
  TAG,
  fromBase64,
  fromBase85,
  dangerousQualified,
  splitQualified,
} from './jsonpickle-common.js';
import { isNumpyJsonPickle, readNumpyJsonPickle } from './numpy-bridge.js';

export interface FromJsonPickleOptions {
  /**
   * As `loads`' option: every Python int becomes a bigint and every dict a Map, so the values match
   * `loads(pickle, {lossless: true})`. Default false: safe integers are numbers and dicts with only
   * string keys are plain objects.
   */
  readonly lossless?: boolean;
  /** Your own families (after the built-in ones), as for `loads`. */
  readonly families?: readonly Family[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A `py/reduce` or `py/object` value whose constructor has not run yet. */
const PENDING: unique symbol = Symbol('pending');

type Gen = Generator<JNode, unknown, unknown>;

class ReadError extends UnpicklingError {}

function fail(message: string): never {
  throw new ReadError(message);
}

/** Python truthiness of a restored value (jsonpickle applies state/items only when truthy). */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Truthiness of a raw JSON node (jsonpickle tests `if args:` before restoring them). */
function rawTruthy(n: JNode | undefined): boolean {
  if (n === undefined || n === null || n === false || n === '') return false;
  if (Array.isArray(n)) return n.length > 0;
  if (n instanceof JObject) return n.keys.length > 0;
  if (n instanceof JInt) return !/^-?0$/.test(n.text);
  if (n instanceof JFloat) return n.value !== 0;
  return true;
}

/** Entries of a restored dict (Map, or plain object in the default mode). */
function dictEntries(v: unknown): [unknown, unknown][] | undefined {
  if (v instanceof Map) return [...v.entries()];
  if (isPlainObject(v)) return Object.entries(v);
  return undefined;
}

/** Names a PyObject uses itself; a state dict holding one of them is kept whole in `__state__` (as the decoder does). */
const OWN_NAMES = new Set([
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

function stringKeyed(entries: [unknown, unknown][] | undefined): entries is [string, unknown][] {
  return entries !== undefined && entries.every(([k]) => typeof k === 'string' && !OWN_NAMES.has(k));
}

/** Python's default BUILD for an inert object, exactly as the decoder applies it. */
function applyObjectState(obj: PyObject, state: unknown): void {
  if (state === null) return;
  const attrs = dictEntries(state);
  if (attrs !== undefined && stringKeyed(attrs)) {
    for (const [k, v] of attrs) setOwn(obj, k, v);
    return;
  }
  if (attrs === undefined && state instanceof Tuple && state.length === 2) {
    const a = state[0] === null ? [] : dictEntries(state[0]);
    const b = state[1] === null ? [] : dictEntries(state[1]);
    if (stringKeyed(a) && stringKeyed(b)) {
      for (const [k, v] of a) setOwn(obj, k, v);
      for (const [k, v] of b) setOwn(obj, k, v);
      obj.__state__ = state;
      return;
    }
  }
  obj.__state__ = state;
}

class Reader implements DecodeContext {
  readonly lossless: boolean;
  readonly protocol = 4;
  readonly offset = -1;
  readonly opcode = 'jsonpickle';
  readonly encoding = 'utf-8' as const;
  private readonly families: FamilySet;
  /** jsonpickle's `_objs`: registered objects by id. */
  private readonly objs: unknown[] = [];
  private readonly globals = new Map<
    string,
    { value: unknown; global: PyGlobal; handler: GlobalHandler | undefined }
  >();
  private readonly handlers = new Map<PyGlobal, GlobalHandler>();
  /** Result of `begin` for atomic nodes. */
  private atom: unknown;

  constructor(options: FromJsonPickleOptions | undefined) {
    this.lossless = options?.lossless === true;
    this.families = familySet(options?.families);
  }

  // ---- DecodeContext (for registry handlers) --------------------------------------------------

  toInt(value: unknown): number | bigint {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw this.error('expected an int');
  }
  error(message: string): Error {
    return new ReadError(message);
  }
  readRaw(): Uint8Array {
    throw this.error('raw payloads do not exist in jsonpickle');
  }
  loadNested(): unknown {
    throw this.error('nested pickles do not exist in jsonpickle');
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
  resolveGlobal(module: string, name: string): unknown {
    return this.lookup(`${module}.${name}`).value;
  }

  // ---- globals ----------------------------------------------------------------------------------

  /** Resolve jsonpickle's dotted `module.qualname` as a GLOBAL opcode would (policy, registry). */
  private lookup(full: string): { value: unknown; global: PyGlobal; handler: GlobalHandler | undefined } {
    const cached = this.globals.get(full);
    if (cached) return cached;
    const name = NAME_FIXES.get(full) ?? full.replace(/^(__builtin__|exceptions)\./, 'builtins.');
    // getattr is policed by its handler (getattr(cls, 'name') resolves as the global `cls.name`).
    const danger = name === 'builtins.getattr' ? undefined : dangerousQualified(this.families.policy, name);
    if (danger !== undefined) {
      fail(`refusing global ${name}: ${danger}; Python would run or reach it when decoding this data`);
    }
    const [m, n] = splitQualified(name);
    const handler = this.families.handlers.get(`${m}.${n}`);
    const global = new PyGlobal(m, n);
    let value: unknown = global;
    if (handler) {
      this.handlers.set(global, handler);
      if (handler.reference) value = handler.reference(this);
    }
    const entry = { value, global, handler };
    this.globals.set(full, entry);
    return entry;
  }

  private call(callable: unknown, args: Tuple): unknown {
    const h = callable instanceof PyGlobal ? this.handlers.get(callable) : undefined;
    if (h?.call) return h.call(args, this);
    if (!(callable instanceof PyGlobal)) fail('py/reduce callable is not a global');
    return new PyObject(callable, 'reduce', args);
  }

  private construct(cls: unknown, args: Tuple, kwargs: Map<unknown, unknown> | undefined): unknown {
    if (!(cls instanceof PyGlobal)) fail('the class to instantiate is not a global');
    const h = this.handlers.get(cls);
    if (h?.construct) return h.construct(args, kwargs, this);
    if (h?.call && (kwargs === undefined || kwargs.size === 0)) return h.call(args, this);
    return new PyObject(cls, kwargs !== undefined ? 'newobj_ex' : 'newobj', args, kwargs);
  }

  /** BUILD semantics (Python's `__setstate__` / `__dict__` update), kept inert. */
  private build(obj: unknown, state: unknown): unknown {
    if (hasSetState(obj)) {
      const r = obj[SET_STATE](state, this);
      return r === undefined ? obj : r;
    }
    if (obj instanceof PyObject) {
      applyObjectState(obj, state);
      return obj;
    }
    if (obj === null || typeof obj !== 'object') fail('cannot apply state to a value of this type');
    // Anything else keeps the state aside, as the decoder does (spreading it could collide with JS members).
    if (state === null) return obj;
    const previous = Object.getOwnPropertyDescriptor(obj, '__state__');
    if (previous && !previous.configurable) fail('cannot apply state to a value of this type');
    Object.defineProperty(obj, '__state__', {
      value: state,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return obj;
  }

  private int(text: string): number | bigint {
    const big = BigInt(text);
    if (this.lossless) return big;
    return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }

  // ---- the restorer -----------------------------------------------------------------------------

  restore(root: JNode): unknown {
    const first = this.begin(root);
    if (first === undefined) return this.atom;
    const stack: Gen[] = [first];
    let send: unknown;
    while (stack.length > 0) {
      const g = stack[stack.length - 1] as Gen;
      const r = g.next(send);
      if (r.done) {
        stack.pop();
        send = r.value;
        continue;
      }
      const child = this.begin(r.value);
      if (child === undefined) send = this.atom;
      else {
        stack.push(child);
        send = undefined;
      }
    }
    return send;
  }

  /** Start restoring `node`: a generator for containers, or undefined with the value in `this.atom`. */
  private begin(node: JNode): Gen | undefined {
    if (node === null || typeof node === 'boolean' || typeof node === 'string') {
      this.atom = node;
      return undefined;
    }
    if (node instanceof JInt) {
      this.atom = this.int(node.text);
      return undefined;
    }
    if (node instanceof JFloat) {
      this.atom = node.value;
      return undefined;
    }
    if (Array.isArray(node)) return this.list(node);
    // jsonpickle's dispatch order (`_restore_tags`).
    const o = node;
    if (o.has(TAG.TUPLE)) return this.tuple(o.get(TAG.TUPLE));
    if (o.has(TAG.SET)) return this.set(o.get(TAG.SET));
    if (o.has(TAG.B64) || o.has('py/b85')) {
      const b85 = !o.has(TAG.B64);
      const s = o.get(b85 ? 'py/b85' : TAG.B64);
      const bytes = typeof s === 'string' ? (b85 ? fromBase85(s) : fromBase64(s)) : undefined;
      if (bytes === undefined) fail(`invalid ${b85 ? 'py/b85' : 'py/b64'} payload`);
      this.atom = bytes;
      return undefined;
    }
    if (o.has(TAG.ID)) {
      const idx = o.get(TAG.ID);
      if (!(idx instanceof JInt)) fail('py/id must be an integer');
      const i = Number(idx.text);
      if (!(i >= 0 && i < this.objs.length)) fail(`py/id ${idx.text} refers to no object restored so far`);
      const v = this.objs[i];
      if (v === PENDING) fail(`py/id ${i} refers to an object whose construction needs itself`);
      this.atom = v;
      return undefined;
    }
    if (o.has(TAG.ITERATOR)) {
      const items = o.get(TAG.ITERATOR);
      if (!Array.isArray(items)) fail('py/iterator must hold a list');
      return this.list(items);
    }
    if (o.has(TAG.OBJECT)) return this.object(o);
    if (o.has(TAG.TYPE)) {
      this.atom = this.lookup(this.name(o.get(TAG.TYPE), TAG.TYPE)).value;
      return undefined;
    }
    if (o.has(TAG.REDUCE)) return this.reduceTag(o);
    if (o.has(TAG.FUNCTION)) {
      this.atom = this.lookup(this.name(o.get(TAG.FUNCTION), TAG.FUNCTION)).value;
      return undefined;
    }
    if (o.has(TAG.REPR)) fail('py/repr is restored by eval() in Python; refusing it');
    return this.dict(o);
  }

  private name(n: JNode | undefined, tag: string): string {
    if (typeof n !== 'string' || n === '') fail(`${tag} must name a global`);
    return n;
  }

  private register(v: unknown): number {
    this.objs.push(v);
    return this.objs.length - 1;
  }

  private *list(items: JNode[]): Gen {
    const out: unknown[] = [];
    this.register(out);
    for (const item of items) out.push(yield item);
    return out;
  }

  private *tuple(items: JNode | undefined): Gen {
    if (!Array.isArray(items)) fail('py/tuple must hold a list');
    const t = new Tuple();
    for (const item of items) t.push(yield item);
    return t;
  }

  private *set(items: JNode | undefined): Gen {
    if (!Array.isArray(items)) fail('py/set must hold a list');
    const s = new Set<unknown>();
    for (const item of items) s.add(yield item);
    return s;
  }

  /** The JSON text inside a `json://` key, parsed. */
  private keyNode(key: string): JNode {
    try {
      return parseJson(key.slice(JSON_KEY.length));
    } catch (e) {
      if (e instanceof JsonSyntaxError) fail(`invalid encoded dict key ${JSON.stringify(key)}: ${e.message}`);
      throw e;
    }
  }

  private *dict(o: JObject): Gen {
    // The container exists before its values (they may refer to it). In the default mode a dict is a
    // plain object when every key is a string: plain keys are, and an encoded key is when its JSON
    // is a string literal (nothing else restores to a str).
    const plain =
      !this.lossless &&
      o.keys.every((k) => !k.startsWith(JSON_KEY) || k.charCodeAt(JSON_KEY.length) === 0x22);
    const out: Map<unknown, unknown> | Record<string, unknown> = plain ? {} : new Map();
    this.register(out);
    const put = (k: unknown, v: unknown): void => {
      if (out instanceof Map) out.set(k, v);
      else setOwn(out, k as string, v);
    };
    const { keys, values } = o;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (!k.startsWith(JSON_KEY)) put(k, yield values[i] as JNode);
    }
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (!k.startsWith(JSON_KEY)) continue;
      const key = yield this.keyNode(k);
      put(key, yield values[i] as JNode);
    }
    return out;
  }

  private *reduceTag(o: JObject): Gen {
    const parts = o.get(TAG.REDUCE);
    if (!Array.isArray(parts) || parts.length < 1 || parts.length > 5)
      fail('py/reduce must hold 1 to 5 items');
    const slot = this.register(PENDING);
    const f = yield parts[0] as JNode;
    const rawArgs = parts.length > 1 ? yield parts[1] as JNode : null;
    if (!Array.isArray(rawArgs)) fail('py/reduce arguments must be a tuple');
    const args = rawArgs instanceof Tuple ? rawArgs : Tuple.from_(rawArgs);
    let value: unknown;
    const isNewobj =
      f === TAG.NEWOBJ || (f instanceof PyGlobal && f.module === 'copyreg' && f.name === '__newobj__');
    if (isNewobj) {
      if (args.length === 0) fail('py/newobj needs a class');
      value = this.construct(args[0], Tuple.from_(args.slice(1)), undefined);
    } else if (f instanceof PyGlobal && f.module === 'copyreg' && f.name === '__newobj_ex__') {
      const [cls, a, kw] = args;
      if (!Array.isArray(a)) fail('copyreg.__newobj_ex__ needs an argument tuple');
      const entries = dictEntries(kw);
      if (!entries) fail('copyreg.__newobj_ex__ needs a kwargs dict');
      value = this.construct(cls, Tuple.from_(a), new Map(entries));
    } else {
      value = this.call(f, args);
    }
    this.objs[slot] = value;
    if (parts.length > 2) {
      const state = yield parts[2] as JNode;
      if (truthy(state)) {
        value = this.build(value, state);
        this.objs[slot] = value;
      }
    }
    if (parts.length > 3) {
      const items = yield parts[3] as JNode;
      if (truthy(items)) {
        if (!Array.isArray(items)) fail('py/reduce list items must be a sequence');
        this.appendItems(value, items);
      }
    }
    if (parts.length > 4) {
      const pairs = yield parts[4] as JNode;
      if (truthy(pairs)) {
        if (!Array.isArray(pairs)) fail('py/reduce dict items must be a sequence of pairs');
        for (const pair of pairs) {
          if (!Array.isArray(pair) || pair.length !== 2) fail('py/reduce dict items must be pairs');
          this.setItem(value, pair[0], pair[1]);
        }
      }
    }
    return value;
  }

  private appendItems(target: unknown, items: unknown[]): void {
    if (target instanceof PyObject) (target.__items__ ??= []).push(...items);
    else if (Array.isArray(target) && !(target instanceof Tuple)) for (const x of items) target.push(x);
    else if (target instanceof Set && !(target instanceof FrozenSet)) for (const x of items) target.add(x);
    else fail('cannot append items to this value');
  }

  private setItem(target: unknown, k: unknown, v: unknown): void {
    if (target instanceof PyObject) (target.__dictitems__ ??= new Map()).set(k, v);
    else if (target instanceof Map) target.set(k, v);
    else if (isPlainObject(target) && typeof k === 'string') setOwn(target, k, v);
    else fail('cannot set items on this value');
  }

  private *object(o: JObject): Gen {
    const name = this.name(o.get(TAG.OBJECT), TAG.OBJECT);
    const slot = this.register(PENDING);
    if (isNumpyJsonPickle(name, o)) {
      const value = yield* readNumpyJsonPickle(name, o, this);
      this.objs[slot] = value;
      return value;
    }
    // jsonpickle's DatetimeHandler: {"__reduce__": [cls, [b64 payload, tzinfo...]]}.
    if (
      (name === 'datetime.datetime' || name === 'datetime.date' || name === 'datetime.time') &&
      o.has('__reduce__')
    ) {
      const red = o.get('__reduce__');
      if (
        !Array.isArray(red) ||
        red.length !== 2 ||
        !Array.isArray(red[1]) ||
        typeof red[1][0] !== 'string'
      ) {
        fail(`malformed ${name} value`);
      }
      const cls = yield red[0] as JNode;
      const argNodes = red[1] as JNode[];
      const packed = fromBase64(argNodes[0] as string);
      if (packed === undefined) fail(`invalid base64 in ${name} value`);
      const args: Tuple = Tuple.from_<unknown>([packed]);
      for (let i = 1; i < argNodes.length; i++) args.push(yield argNodes[i] as JNode);
      const value = this.construct(cls, args, undefined);
      this.objs[slot] = value;
      return value;
    }
    // jsonpickle's UUIDHandler: {"hex": "..."}.
    if (name === 'uuid.UUID' && typeof o.get('hex') === 'string') {
      const value = this.call(this.lookup('uuid.UUID').global, Tuple.from_([o.get('hex')]));
      this.objs[slot] = value;
      return value;
    }
    const { global: cls } = this.lookup(name);
    // Like jsonpickle: the default factory first, then `__new__` arguments, then the instance.
    const args = new Tuple();
    let kwargs: Map<unknown, unknown> | undefined;
    if (o.has('default_factory')) args.push(yield o.get('default_factory') as JNode);
    if (o.has(TAG.NEWARGSEX)) {
      const ex = o.get(TAG.NEWARGSEX);
      if (!Array.isArray(ex) || ex.length !== 2) fail('py/newargsex must hold [args, kwargs]');
      if (rawTruthy(ex[0])) {
        const a = yield ex[0] as JNode;
        if (!Array.isArray(a)) fail('py/newargsex arguments must be a sequence');
        args.push(...a);
      }
      if (rawTruthy(ex[1])) {
        const kw = dictEntries(yield ex[1] as JNode);
        if (!kw) fail('py/newargsex keyword arguments must be a dict');
        kwargs = new Map(kw);
      }
    } else {
      const tag = o.has(TAG.NEWARGS) ? TAG.NEWARGS : o.has(TAG.INITARGS) ? TAG.INITARGS : undefined;
      if (tag !== undefined && rawTruthy(o.get(tag))) {
        const a = yield o.get(tag) as JNode;
        if (!Array.isArray(a)) fail(`${tag} must be a sequence`);
        args.push(...a);
      }
    }
    let value = this.construct(cls, args, kwargs);
    this.objs[slot] = value;
    // Members: dict items for dict subclasses (jsonpickle writes their `__dict__` under that key),
    // attributes otherwise.
    const dictLike = o.has('__dict__') || value instanceof Map;
    let attrs: Map<string, unknown> | undefined;
    for (let i = 0; i < o.keys.length; i++) {
      const raw = o.keys[i] as string;
      if (RESERVED.has(raw) || raw === 'default_factory') continue;
      const key = raw.startsWith(JSON_KEY) ? yield this.keyNode(raw) : raw;
      const v = yield o.values[i] as JNode;
      if (key === '__dict__') {
        if (truthy(v)) value = this.build(value, v);
      } else if (dictLike) {
        this.setItem(value, key, v);
      } else {
        if (typeof key !== 'string') fail('attribute names must be strings');
        (attrs ??= new Map()).set(key, v);
      }
    }
    if (attrs !== undefined) value = this.build(value, attrs);
    // List and set subclasses; a tuple subclass (namedtuple) lists its items again after its
    // `__new__` arguments, and jsonpickle ignores them then.
    if (o.has(TAG.SEQ) && !o.has(TAG.NEWARGS)) {
      const seq = o.get(TAG.SEQ);
      if (!Array.isArray(seq)) fail('py/seq must hold a list');
      const items: unknown[] = [];
      for (const item of seq) items.push(yield item);
      if (items.length > 0) this.appendItems(value, items);
    }
    if (o.has(TAG.STATE)) {
      const state = yield o.get(TAG.STATE) as JNode;
      value = this.build(value, state);
    }
    this.objs[slot] = value;
    return value;
  }

  // ---- for the numpy bridge ---------------------------------------------------------------------

  /** `module.name(*args)` through the registry, as a REDUCE would. */
  callGlobal(qualified: string, args: unknown[]): unknown {
    return this.call(this.lookup(qualified).global, Tuple.from_(args));
  }

  /** BUILD `state` onto `obj`. */
  applyState(obj: unknown, state: unknown): unknown {
    return this.build(obj, state);
  }
}

export type { Reader };

/**
 * Read jsonpickle JSON (as written by `jsonpickle.encode(value, keys=True)`) into picklejar's value
 * model: the values `loads` gives for the pickle of the same Python value. Throws UnpicklingError for
 * malformed input, dangerous globals and `py/repr`.
 * @example
 * fromJsonPickle('{"py/tuple": [1, 2.5]}', { lossless: true }) // Tuple [1n, 2.5]
 */
export function fromJsonPickle(text: string, options?: FromJsonPickleOptions): unknown {
  if (typeof text !== 'string') throw new UnpicklingError('fromJsonPickle expects a string');
  let root: JNode;
  try {
    root = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new UnpicklingError(`invalid JSON: ${e.message}`);
    throw e;
  }
  try {
    return new Reader(options).restore(root);
  } catch (e) {
    if (e instanceof PickleError) throw e;
    if (e instanceof RangeError || e instanceof TypeError)
      throw new UnpicklingError(`cannot restore value: ${e.message}`);
    throw e;
  }
}
