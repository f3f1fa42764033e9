/**
 * `toJsonPickle`: write a decoded value as the JSON that Python's jsonpickle 3.x turns back into the
 * same Python value (`jsonpickle.decode(text, keys=True)`, with `jsonpickle.ext.numpy` handlers
 * registered for arrays).
 *
 * The layout follows what jsonpickle's own pickler writes for the same Python objects wherever that
 * decodes correctly, and departs from it where jsonpickle 3.0 loses data (bytearray, 0-d arrays,
 * dict keys that look like tags, numpy dtypes). `py/id` numbers are assigned in exactly the order
 * jsonpickle's unpickler registers objects (lists, dicts, `py/object` and `py/reduce` values,
 * pre-order; tuples and sets get none), so shared and cyclic containers come back shared.
 *
 * The writer is iterative (an explicit task stack), so deep nesting cannot overflow the JS stack.
 */
import { PicklingError } from '../errors.js';
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
  isIntNumber,
} from '../python/values.js';
import {
  DefaultDict,
  OrderedDict,
  PyDate,
  PyDateTime,
  PyTime,
  PyUUID,
  stdlibReduce,
  type StdlibReduction,
} from '../python/stdlib.js';
import { familySet } from '../families.js';
import { JSON_KEY, RESERVED, TAG, looksLikeType, toBase64 } from './jsonpickle-common.js';
import { pyFloatText, quoteAscii } from './json-text.js';
import { numpyForJsonPickle, type NumpyJsonPickle } from './numpy-bridge.js';
import { PyFloat, PyName, Reduced, type Reduction, type ReduceContext } from '../pickle/reducers.js';

export interface ToJsonPickleOptions {
  /**
   * Write JS numbers that hold integers as Python ints. Off by default: as in `loads(…, {lossless: true})`,
   * a JS number is a Python float and a bigint a Python int. Turn it on for values decoded in the default
   * mode, where safe integers arrive as numbers.
   */
  readonly intNumbers?: boolean;
}

/** Where a value sits, for error messages (rendered only when an error is thrown). */
interface PathNode {
  readonly parent: PathNode | null;
  readonly key: string | number;
}

function renderPath(p: PathNode | null): string {
  const keys: (string | number)[] = [];
  for (let n = p; n !== null; n = n.parent) keys.push(n.key);
  let out = 'root';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i] as string | number;
    out +=
      typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return out;
}

interface ValueTask {
  readonly v: unknown;
  readonly p: PathNode | null;
}
/** Leave a tuple/set (restoring its previous entry record). */
interface ExitTask {
  readonly exit: object;
  readonly prev: number | undefined;
  /** The tuple/set had been written in full before: this visit repeats it. */
  readonly again: boolean;
}
/** Leave an object that has an id. */
interface LeaveTask {
  readonly leave: true;
}
const LEAVE: LeaveTask = { leave: true };
/** Start capturing output (the jsonpickle text of a non-string dict key). */
interface CaptureTask {
  readonly capture: true;
}
/** Stop capturing and write the captured text as a `"json://…": ` key. */
interface KeyTask {
  readonly key: true;
}
/** Literal text holding `n` primitive values (counted like values, for the repeat budget). */
interface RunTask {
  readonly run: string;
  readonly n: number;
}
type Task = string | ValueTask | RunTask | ExitTask | LeaveTask | CaptureTask | KeyTask;

const SEP = ', ';

/**
 * Repeats of shared tuples/sets are written in full (jsonpickle has no ids for them), which is
 * exponential for nested sharing. The writer refuses once the values visited inside repeats exceed
 * both REPEAT_FLOOR and REPEAT_RATIO times the values visited outside them.
 */
const REPEAT_FLOOR = 1_000_000;
const REPEAT_RATIO = 1000;

function val(v: unknown, parent: PathNode | null, key: string | number): ValueTask {
  return { v, p: { parent, key } };
}

/** The jsonpickle text of a Python int. */
function intText(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : Number.isInteger(v) ? String(BigInt(v)) : pyFloatText(v);
}

class Writer {
  private readonly intNumbers: boolean;
  private out: string[] = [];
  private readonly captures: string[][] = [];
  private readonly ids = new Map<object, number>();
  private nextId = 0;
  /** Tuples/sets being written, with the number of id'd objects open around them when entered. */
  private readonly active = new Map<object, number>();
  /** Objects with an id currently open (being written) around the current position. */
  private openIds = 0;
  private readonly tasks: Task[] = [];
  /** Tuples/sets written in full at least once. */
  private readonly written = new WeakSet<object>();
  /** How many repeats of already-written tuples/sets enclose the current position. */
  private repeating = 0;
  /** Values visited outside / inside such repeats (the budget against exponential output). */
  private firstVisits = 0;
  private repeatVisits = 0;
  private readonly reduceContext: ReduceContext;

  constructor(options: ToJsonPickleOptions | undefined) {
    this.intNumbers = options?.intNumbers === true;
    this.reduceContext = { protocol: 4, lossless: !this.intNumbers, error: (m) => new PicklingError(m) };
  }

  run(value: unknown): string {
    this.tasks.push({ v: value, p: null });
    const tasks = this.tasks;
    while (tasks.length > 0) {
      const t = tasks.pop() as Task;
      if (typeof t === 'string') this.out.push(t);
      else if ('run' in t) {
        this.out.push(t.run);
        this.count(t.n, null);
      } else if ('v' in t) {
        this.count(1, t.p);
        this.value(t.v, t.p);
      } else if ('leave' in t) this.openIds--;
      else if ('exit' in t) {
        if (t.prev === undefined) this.active.delete(t.exit);
        else this.active.set(t.exit, t.prev);
        this.written.add(t.exit);
        if (t.again) this.repeating--;
      } else if ('capture' in t) {
        this.captures.push(this.out);
        this.out = [];
      } else {
        const text = this.out.join('');
        this.out = this.captures.pop() as string[];
        this.out.push(quoteAscii(JSON_KEY + text), ': ');
      }
    }
    return this.out.join('');
  }

  /**
   * Count `n` values written, inside or outside repeats of shared tuples/sets; refuse once the repeats
   * outgrow the budget (see REPEAT_RATIO).
   */
  private count(n: number, p: PathNode | null): void {
    if (this.repeating === 0) {
      this.firstVisits += n;
      return;
    }
    this.repeatVisits += n;
    if (this.repeatVisits > REPEAT_FLOOR && this.repeatVisits > REPEAT_RATIO * this.firstVisits) {
      this.fail(
        `shared tuples or sets would be repeated more than ${REPEAT_RATIO} times over (${this.repeatVisits} values so far): ` +
          'jsonpickle has no references for tuples and sets, so nested sharing such as 60 levels of (x, x) is exponential',
        p,
      );
    }
  }

  /** Queue `parts` so that they are processed in order. */
  private emit(parts: Task[]): void {
    for (let i = parts.length - 1; i >= 0; i--) this.tasks.push(parts[i] as Task);
  }

  /** Give `obj` the next id. Call before emitting its parts: it stays open until they are written. */
  private register(obj: object): void {
    this.ids.set(obj, this.nextId++);
    this.openIds++;
    this.tasks.push(LEAVE);
  }

  private fail(message: string, p: PathNode | null): never {
    throw new PicklingError(message, renderPath(p));
  }

  private value(v: unknown, p: PathNode | null): void {
    switch (typeof v) {
      case 'boolean':
        this.out.push(v ? 'true' : 'false');
        return;
      case 'bigint':
        this.out.push(v.toString());
        return;
      case 'number':
        this.out.push(this.intNumbers && isIntNumber(v) ? intText(v) : pyFloatText(v));
        return;
      case 'string':
        this.out.push(quoteAscii(v));
        return;
      case 'object':
        break;
      default:
        this.fail(`cannot write a JS ${typeof v} as jsonpickle`, p);
    }
    if (v === null) {
      this.out.push('null');
      return;
    }
    const obj = v as object;
    const id = this.ids.get(obj);
    if (id !== undefined) {
      this.out.push(`{"${TAG.ID}": ${id}}`);
      return;
    }
    // The common containers first (exact classes: subclasses such as Tuple or OrderedDict differ).
    const ctor = (obj as { constructor?: unknown }).constructor;
    if (ctor === Array) {
      this.register(obj);
      return this.emit(['[', ...this.items(obj as unknown[], p), ']']);
    }
    if (ctor === Map) {
      this.register(obj);
      return this.emit(['{', ...this.dictBody((obj as Map<unknown, unknown>).entries(), p, false), '}']);
    }
    if (obj instanceof PyGlobal) return this.global(obj, p);
    if (obj instanceof PyObject) return this.pyObject(obj, p);
    if (obj instanceof Tuple) {
      const exit = this.enter(obj, p);
      return this.emit([`{"${TAG.TUPLE}": [`, ...this.items(obj, p), ']}', exit]);
    }
    if (obj instanceof PyFloat) {
      this.out.push(pyFloatText(obj.value));
      return;
    }
    if (obj instanceof PyName) {
      this.out.push(quoteAscii(obj.value));
      return;
    }
    if (obj instanceof Reduced) return this.reduction(obj, obj.reduction, p);
    let np: NumpyJsonPickle | undefined;
    try {
      np = numpyForJsonPickle(obj);
    } catch (e) {
      if (e instanceof RangeError) this.fail(e.message, p);
      throw e;
    }
    if (np !== undefined) return this.numpy(obj, np, p);
    const red = stdlibReduce(obj, 4);
    if (red !== undefined) return this.stdlib(obj, red, p);
    if (Array.isArray(obj)) {
      this.register(obj);
      return this.emit(['[', ...this.items(obj, p), ']']);
    }
    if (obj instanceof ByteArray) return this.bytearray(obj, obj);
    if (obj instanceof Uint8Array) {
      this.out.push(`{"${TAG.B64}": "${toBase64(obj)}"}`);
      return;
    }
    if (obj instanceof PickleBuffer) {
      if (obj.readonly) this.out.push(`{"${TAG.B64}": "${toBase64(obj.data)}"}`);
      else this.bytearray(obj, obj.data);
      return;
    }
    if (obj instanceof FrozenSet) {
      this.register(obj);
      this.nextId++; // jsonpickle's frozenset reduce carries its items as a list, which gets an id
      return this.emit([
        `{"${TAG.REDUCE}": [{"${TAG.TYPE}": "builtins.frozenset"}, {"${TAG.TUPLE}": [[`,
        ...this.items(obj, p),
        ']]}]}',
      ]);
    }
    if (obj instanceof Set) {
      const exit = this.enter(obj, p);
      return this.emit([`{"${TAG.SET}": [`, ...this.items(obj, p), ']}', exit]);
    }
    if (obj instanceof Map) {
      this.register(obj);
      return this.emit(['{', ...this.dictBody(obj.entries(), p, false), '}']);
    }
    if (obj instanceof Complex) {
      this.register(obj);
      this.out.push(
        `{"${TAG.OBJECT}": "builtins.complex", "${TAG.NEWARGS}": {"${TAG.TUPLE}": [${pyFloatText(obj.re)}, ${pyFloatText(obj.im)}]}}`,
      );
      return;
    }
    if (obj instanceof PyRange) {
      this.register(obj);
      this.out.push(
        `{"${TAG.REDUCE}": [{"${TAG.TYPE}": "builtins.range"}, {"${TAG.TUPLE}": [${intText(obj.start)}, ${intText(obj.stop)}, ${intText(obj.step)}]}]}`,
      );
      return;
    }
    if (obj instanceof PySlice) {
      this.register(obj);
      return this.emit([
        `{"${TAG.REDUCE}": [{"${TAG.TYPE}": "builtins.slice"}, {"${TAG.TUPLE}": [`,
        val(obj.start, p, 'start'),
        SEP,
        val(obj.stop, p, 'stop'),
        SEP,
        val(obj.step, p, 'step'),
        ']}]}',
      ]);
    }
    if (isPlainObject(obj)) {
      this.register(obj);
      return this.emit(['{', ...this.dictBody(Object.entries(obj), p, false), '}']);
    }
    // Values the pickle writer's families know (numpy arrays jsonpickle has no form for, typed
    // arrays, ...): their pickle recipe as a `py/reduce`, which jsonpickle replays like pickle does.
    for (const fam of familySet().families) {
      // pandas recipes replay through pickle, but jsonpickle's py/reduce restore tests the state's
      // truth value, which a DataFrame refuses: such values stay unwritable here (PicklingError).
      if (fam.name === 'pandas' || fam.reduce === undefined) continue;
      const r = fam.reduce(obj, this.reduceContext);
      if (r !== undefined) return this.reduction(obj, r, p);
    }
    this.fail(
      `cannot write a ${(obj as { constructor?: { name?: string } }).constructor?.name ?? 'value'} as jsonpickle`,
      p,
    );
  }

  /**
   * Tuples and sets have no jsonpickle id, so they are written again wherever they occur. That ends
   * when the way back to them passes through an object with an id (written as a `py/id` the second
   * time); a cycle made of tuples and sets alone cannot be written.
   */
  private enter(obj: object, p: PathNode | null): ExitTask {
    const prev = this.active.get(obj);
    if (prev !== undefined && prev === this.openIds) {
      this.fail(
        'a tuple or set contains itself with no list, dict or object in between; jsonpickle cannot represent that',
        p,
      );
    }
    this.active.set(obj, this.openIds);
    const again = this.written.has(obj);
    if (again) this.repeating++;
    return { exit: obj, prev, again };
  }

  /** The text of a primitive (no task needed), or undefined. */
  private primitive(x: unknown): string | undefined {
    switch (typeof x) {
      case 'string':
        return quoteAscii(x);
      case 'bigint':
        return x.toString();
      case 'number':
        return this.intNumbers && isIntNumber(x) ? intText(x) : pyFloatText(x);
      case 'boolean':
        return x ? 'true' : 'false';
      case 'object':
        return x === null ? 'null' : undefined;
      default:
        return undefined;
    }
  }

  private items(it: Iterable<unknown>, p: PathNode | null): Task[] {
    const parts: Task[] = [];
    let i = 0;
    // Runs of primitives are joined into one literal part.
    let run = '';
    let n = 0;
    for (const x of it) {
      if (i > 0) run += SEP;
      const lit = this.primitive(x);
      if (lit !== undefined) {
        run += lit;
        n++;
      } else {
        if (run !== '') parts.push({ run, n });
        run = '';
        n = 0;
        parts.push(val(x, p, i));
      }
      i++;
    }
    if (run !== '') parts.push({ run, n });
    return parts;
  }

  /**
   * The members of a dict. With `keys=True`, jsonpickle's unpickler restores plain string keys first
   * and `json://` keys second (both in document order), so we write them in that order: the ids we
   * assign then follow the order Python registers objects. String keys that jsonpickle would read
   * as tags (`py/…`) or as encoded keys (`json://…`) travel as encoded keys too, which decode back
   * to the same strings. `inObject`: the dict is a `py/object`'s attribute dict, where
   * `default_factory` is also special.
   */
  private dictBody(entries: Iterable<[unknown, unknown]>, p: PathNode | null, inObject: boolean): Task[] {
    const plain: Task[] = [];
    const encoded: Task[] = [];
    for (const [k, v] of entries) {
      if (typeof k === 'string' && !needsKeyEscape(k, inObject)) {
        if (plain.length > 0) plain.push(SEP);
        const lit = this.primitive(v);
        if (lit !== undefined) plain.push({ run: quoteAscii(k) + ': ' + lit, n: 1 });
        else plain.push(quoteAscii(k) + ': ', val(v, p, k));
      } else {
        if (encoded.length > 0) encoded.push(SEP);
        encoded.push(
          { capture: true },
          val(k, p, '<key>'),
          { key: true },
          val(v, p, typeof k === 'string' ? k : '<value>'),
        );
      }
    }
    if (plain.length > 0 && encoded.length > 0) plain.push(SEP);
    return plain.concat(encoded);
  }

  /**
   * Items of a dict subclass as members of its `py/object` dict, in order (jsonpickle's unpickler sets
   * them in document order, decoding `json://` keys in place). Each part starts with a separator.
   */
  private objectItems(entries: Iterable<[unknown, unknown]>, p: PathNode | null): Task[] {
    const parts: Task[] = [];
    for (const [k, v] of entries) {
      if (typeof k === 'string' && !needsKeyEscape(k, true))
        parts.push(SEP + quoteAscii(k) + ': ', val(v, p, k));
      else
        parts.push(
          SEP,
          { capture: true },
          val(k, p, '<key>'),
          { key: true },
          val(v, p, typeof k === 'string' ? k : '<value>'),
        );
    }
    return parts;
  }

  private bytearray(obj: object, data: Uint8Array): void {
    this.register(obj);
    this.out.push(
      `{"${TAG.REDUCE}": [{"${TAG.TYPE}": "builtins.bytearray"}, {"${TAG.TUPLE}": [{"${TAG.B64}": "${toBase64(data)}"}]}]}`,
    );
  }

  private globalRef(g: PyGlobal, p: PathNode | null): string {
    // (getattr comes from trusted reductions only: getattr(cls, 'name') of enum members and methods.)
    const v = familySet().policy.classify(g.module, g.name);
    if (v.severity === 'dangerous' && g.qualifiedName !== 'builtins.getattr') {
      this.fail(
        `refusing to write the global ${g.qualifiedName}: ${v.reason}; Python would run or reach it when decoding`,
        p,
      );
    }
    const tag = looksLikeType(g.module, g.name) ? TAG.TYPE : TAG.FUNCTION;
    return `{"${tag}": ${quoteAscii(g.qualifiedName)}}`;
  }

  private global(g: PyGlobal, p: PathNode | null): void {
    this.out.push(this.globalRef(g, p));
  }

  private pyObject(obj: PyObject, p: PathNode | null): void {
    const cls = obj.__class__;
    const ref = this.globalRef(cls, p);
    const attrs = Object.keys(obj);
    const state = obj.__state__;
    const items = obj.__items__;
    const dictitems = obj.__dictitems__;
    const args = obj.__args__ ?? new Tuple();
    const kwargs = obj.__kwargs__ !== undefined && obj.__kwargs__.size > 0 ? obj.__kwargs__ : undefined;
    const kind = obj.__kind__;
    this.register(obj);

    const created =
      kind === 'newobj' || kind === 'newobj_ex' || ((kind === 'inst' || kind === 'obj') && args.length === 0);
    // jsonpickle's unpickler mangles attribute names that start with '__' and treats a '__dict__' item
    // of a dict subclass as the instance dict: those objects take the `py/reduce` form below.
    const attrsOk = state !== undefined || attrs.every((k) => !k.startsWith('__'));
    const itemsOk = dictitems === undefined || !dictitems.has('__dict__');
    if (created && attrsOk && itemsOk) {
      // jsonpickle's form for instances: the instance exists before its contents are restored, so
      // contents may refer back to it. Class, `__new__` arguments, dict items (dict subclasses, in
      // order), list items (`py/seq`), then the state (`__setstate__`, else attribute by attribute).
      const parts: Task[] = [`{"${TAG.OBJECT}": ${quoteAscii(cls.qualifiedName)}`];
      if (kwargs !== undefined) {
        parts.push(`, "${TAG.NEWARGSEX}": [{"${TAG.TUPLE}": [`, ...this.items(args, p), ']}, ');
        this.nextDict(parts, kwargs, p);
        parts.push(']');
      } else if (args.length > 0) {
        parts.push(`, "${TAG.NEWARGS}": {"${TAG.TUPLE}": [`, ...this.items(args, p), ']}');
      }
      if (dictitems !== undefined) parts.push(...this.objectItems(dictitems.entries(), p));
      if (items !== undefined && items.length > 0)
        parts.push(`, "${TAG.SEQ}": [`, ...this.items(items, p), ']');
      if (state !== undefined) parts.push(`, "${TAG.STATE}": `, val(state, p, '__state__'));
      else if (attrs.length > 0) {
        // A dict subclass takes its attributes as `__dict__` (its `py/state` dict would become items).
        const key = dictitems !== undefined && dictitems.size > 0 ? '__dict__' : TAG.STATE;
        parts.push(`, "${key}": `, { v: new Map(attrs.map((k) => [k, obj[k]] as [unknown, unknown])), p });
      }
      parts.push('}');
      return this.emit(parts);
    }

    // Otherwise the pickle protocol's own recipe, which jsonpickle's `py/reduce` replays faithfully:
    // callable + arguments, then state (`__setstate__` or `__dict__`), list items, dict items.
    const parts: Task[] = [`{"${TAG.REDUCE}": [`];
    if ((kind === 'newobj' || kind === 'newobj_ex') && kwargs === undefined) {
      parts.push(`"${TAG.NEWOBJ}", {"${TAG.TUPLE}": [${ref}`);
      for (let i = 0; i < args.length; i++) parts.push(SEP, val(args[i], p, i));
      parts.push(']}');
    } else if (kwargs !== undefined) {
      parts.push(
        `{"${TAG.FUNCTION}": "copyreg.__newobj_ex__"}, {"${TAG.TUPLE}": [${ref}, {"${TAG.TUPLE}": [`,
        ...this.items(args, p),
        ']}, ',
      );
      this.nextDict(parts, kwargs, p);
      parts.push(']}');
    } else {
      parts.push(ref, `, {"${TAG.TUPLE}": [`, ...this.items(args, p), ']}');
    }
    const tail: Task[][] = [];
    if (state !== undefined) tail[0] = [val(state, p, '__state__')];
    else if (attrs.length > 0) {
      // The attribute dict is a fresh dict (it takes an id where the unpickler meets it).
      tail[0] = [{ v: new Map(attrs.map((k) => [k, obj[k]] as [unknown, unknown])), p }];
    }
    if (items !== undefined && items.length > 0)
      tail[1] = [`{"${TAG.TUPLE}": [`, ...this.items(items, p), ']}'];
    if (dictitems !== undefined && dictitems.size > 0) tail[2] = this.pairs(dictitems.entries(), p);
    this.reduceTail(parts, tail);
    return this.emit(parts);
  }

  /**
   * Append the kwargs dict of a `__new__` call. It is a real dict on the Python side (it takes an id),
   * but not one of our objects, so it can never be referenced.
   */
  private nextDict(parts: Task[], d: Map<unknown, unknown>, p: PathNode | null): void {
    parts.push({ v: new Map(d), p });
  }

  /** `state, listitems, dictitems` of a `py/reduce`, with jsonpickle's trailing-None trimming. */
  private reduceTail(parts: Task[], tail: Task[][]): void {
    let last = -1;
    for (let i = 0; i < 3; i++) if (tail[i] !== undefined) last = i;
    for (let i = 0; i <= last; i++) {
      parts.push(SEP);
      const t = tail[i];
      if (t === undefined) parts.push('null');
      else parts.push(...t);
    }
    parts.push(']}');
  }

  private pairs(entries: Iterable<[unknown, unknown]>, p: PathNode | null): Task[] {
    const parts: Task[] = [`{"${TAG.TUPLE}": [`];
    let i = 0;
    for (const [k, v] of entries) {
      if (i > 0) parts.push(SEP);
      parts.push(`{"${TAG.TUPLE}": [`, val(k, p, `<key ${i}>`), SEP, val(v, p, `<value ${i}>`), ']}');
      i++;
    }
    parts.push(']}');
    return parts;
  }

  private stdlib(obj: object, red: StdlibReduction, p: PathNode | null): void {
    this.register(obj);
    const qual = `${red.module}.${red.name}`;
    if (obj instanceof PyDateTime || obj instanceof PyDate || obj instanceof PyTime) {
      // jsonpickle's DatetimeHandler: the packed bytes in base64, then the tzinfo.
      const [packed, tz] = red.args as [Uint8Array, unknown];
      const parts: Task[] = [
        `{"${TAG.OBJECT}": "${qual}", "__reduce__": [{"${TAG.TYPE}": "${qual}"}, ["${toBase64(packed)}"`,
      ];
      if (red.args.length > 1) parts.push(SEP, val(tz, p, 'tzinfo'));
      parts.push(']]}');
      return this.emit(parts);
    }
    if (obj instanceof PyUUID && obj.isSafe.value === null) {
      this.out.push(`{"${TAG.OBJECT}": "uuid.UUID", "hex": "${obj.hex}"}`);
      return;
    }
    if (obj instanceof OrderedDict && !obj.has('__dict__')) {
      // As a `py/object` (not jsonpickle's `py/reduce`): the dict exists before its items are
      // restored, so an OrderedDict that contains itself comes back whole.
      const parts: Task[] = [
        `{"${TAG.OBJECT}": "collections.OrderedDict"`,
        ...this.objectItems(obj.entries(), p),
      ];
      if (red.state !== undefined) parts.push(`, "__dict__": `, val(red.state, p, '__dict__'));
      parts.push('}');
      return this.emit(parts);
    }
    if (obj instanceof DefaultDict) {
      const f = obj.defaultFactory;
      const keys = [...obj.keys()];
      if ((f === null || f === undefined || f instanceof PyGlobal) && !keys.includes('__dict__')) {
        // jsonpickle's form for dict subclasses: items as members (set in document order, so the
        // order is kept), the factory last (restored first).
        const parts: Task[] = [
          `{"${TAG.OBJECT}": "collections.defaultdict"`,
          ...this.objectItems(obj.entries(), p),
        ];
        if (f instanceof PyGlobal) parts.push(`, "default_factory": ${this.globalRef(f, p)}`);
        parts.push('}');
        return this.emit(parts);
      }
    }
    const parts: Task[] = [`{"${TAG.REDUCE}": [`];
    if (red.kind === 'newobj') {
      parts.push(`"${TAG.NEWOBJ}", {"${TAG.TUPLE}": [{"${TAG.TYPE}": "${qual}"}`);
      for (let i = 0; i < red.args.length; i++) parts.push(SEP, val(red.args[i], p, i));
      parts.push(']}');
    } else {
      const callable =
        red.attr !== undefined
          ? `{"${TAG.FUNCTION}": "${qual}.${red.attr}"}`
          : this.globalRef(new PyGlobal(red.module, red.name), p);
      parts.push(callable, `, {"${TAG.TUPLE}": [`, ...this.items(red.args, p), ']}');
    }
    const tail: Task[][] = [];
    if (red.state !== undefined) tail[0] = [val(red.state, p, '__state__')];
    if (red.listitems !== undefined) {
      const items = [...red.listitems];
      if (items.length > 0) tail[1] = [`{"${TAG.TUPLE}": [`, ...this.items(items, p), ']}'];
    }
    if (red.dictitems !== undefined) {
      const entries = [...red.dictitems];
      if (entries.length > 0) tail[2] = this.pairs(entries, p);
    }
    this.reduceTail(parts, tail);
    this.emit(parts);
  }

  /** A pickle-writer `Reduction` as `py/reduce` (Python's `__reduce__` tuple, replayed by jsonpickle). */
  private reduction(obj: object, r: Reduction, p: PathNode | null): void {
    this.register(obj);
    const parts: Task[] = [`{"${TAG.REDUCE}": [`];
    const callable = r.callable;
    if (r.kind === 'reduce') {
      parts.push(
        callable instanceof PyGlobal
          ? this.globalRef(callable, p)
          : val(new Reduced(callable), p, '<callable>'),
      );
      parts.push(`, {"${TAG.TUPLE}": [`, ...this.items(r.args, p), ']}');
    } else {
      if (!(callable instanceof PyGlobal)) this.fail('a class to instantiate must be a global', p);
      const ref = this.globalRef(callable, p);
      if (r.kind === 'newobj' || r.kwargs === undefined || r.kwargs.size === 0) {
        parts.push(`"${TAG.NEWOBJ}", {"${TAG.TUPLE}": [${ref}`);
        for (let i = 0; i < r.args.length; i++) parts.push(SEP, val(r.args[i], p, i));
        parts.push(']}');
      } else {
        parts.push(
          `{"${TAG.FUNCTION}": "copyreg.__newobj_ex__"}, {"${TAG.TUPLE}": [${ref}, {"${TAG.TUPLE}": [`,
          ...this.items(r.args, p),
          ']}, ',
        );
        this.nextDict(parts, new Map(r.kwargs), p);
        parts.push(']}');
      }
    }
    const tail: Task[][] = [];
    if (r.state !== undefined && r.state !== null) tail[0] = [val(r.state, p, '__state__')];
    if (r.listitems !== undefined) {
      const items = [...r.listitems];
      if (items.length > 0) tail[1] = [`{"${TAG.TUPLE}": [`, ...this.items(items, p), ']}'];
    }
    if (r.dictitems !== undefined) {
      const entries = [...r.dictitems] as [unknown, unknown][];
      if (entries.length > 0) tail[2] = this.pairs(entries, p);
    }
    this.reduceTail(parts, tail);
    this.emit(parts);
  }

  private numpy(obj: object, np: NumpyJsonPickle, p: PathNode | null): void {
    this.register(obj);
    this.emit(np.parts.map((part) => (typeof part === 'string' ? part : val(part.value, p, '<numpy>'))));
  }
}

/** String keys that cannot be written as-is (see `dictBody`). */
function needsKeyEscape(k: string, inObject: boolean): boolean {
  if (k.startsWith('py/') || k.startsWith(JSON_KEY)) return true;
  if (inObject && (RESERVED.has(k) || k === 'default_factory')) return true;
  return false;
}

/**
 * Write `value` as jsonpickle JSON: `jsonpickle.decode(text, keys=True)` in Python (with
 * `jsonpickle.ext.numpy.register_handlers()` for numpy values) gives back the Python value the
 * pickle held. Python ints are bigints, floats numbers (see `intNumbers`), dicts Maps or plain objects.
 * Globals Python would refuse to run safely (os.system, eval, ...) are refused with a PicklingError.
 * @example
 * toJsonPickle(new Map([[1n, tuple('a', 2.5)]])) // '{"json://1": {"py/tuple": ["a", 2.5]}}'
 */
export function toJsonPickle(value: unknown, options?: ToJsonPickleOptions): string {
  return new Writer(options).run(value);
}
