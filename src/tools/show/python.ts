/** Python builtins, stdlib values and foreign objects in the show tree. */
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
} from '../../python/values.js';
import { Counter, DefaultDict, Deque, OrderedDict } from '../../python/stdlib.js';
import { reprStr } from '../pyrepr.js';
import {
  containerType,
  emptyForm,
  numText,
  rangeText,
  shortRepr,
  sizeOf,
  stdlibName,
  stdlibText,
  truncBytes,
  truncStr,
} from './format.js';
import { seg, type Expansion, type RenderContext, type ShowChild, type ShowRenderer } from './model.js';

/** Object attributes shown at least (whatever the item limit). */
const ATTRIBUTE_MIN = 100;

function atomic(
  type: string,
  summary: string,
  role: 'str' | 'num' | 'plain' | 'type',
  showType = false,
): Expansion {
  return {
    type,
    summary,
    head: showType ? [seg(type, 'type'), seg(' '), seg(summary, role)] : [seg(summary, role)],
    expandable: false,
  };
}

/** None, bool, int, float and str (the values that are not JS objects). */
export function primitiveExpansion(v: unknown, ctx: RenderContext): Expansion {
  if (v === null || v === undefined) return atomic('NoneType', 'None', 'num');
  if (typeof v === 'boolean') return atomic('bool', v ? 'True' : 'False', 'num');
  if (typeof v === 'number') {
    const isInt = !ctx.lossless && Number.isInteger(v) && !Object.is(v, -0);
    return atomic(isInt ? 'int' : 'float', numText(v, ctx.lossless), 'num');
  }
  if (typeof v === 'bigint') return atomic('int', v.toString(), 'num');
  if (typeof v === 'string') return atomic('str', truncStr(v, ctx.budget - 16), 'str');
  return atomic(typeof v, String(v), 'plain');
}

const always = (): boolean => true;

export const bytesRenderer: ShowRenderer<Uint8Array> = {
  atom: always,
  expand: (v) => atomic('bytes', truncBytes(v, false), 'str'),
};

export const byteArrayRenderer: ShowRenderer<ByteArray> = {
  atom: always,
  expand: (v) => atomic('bytearray', truncBytes(v, true), 'str'),
};

export const complexRenderer: ShowRenderer<Complex> = {
  atom: always,
  expand: (v) => atomic('complex', v.toString(), 'num'),
};

export const globalRenderer: ShowRenderer<PyGlobal> = {
  atom: always,
  expand: (v) => atomic('global', v.qualifiedName, 'plain', true),
};

export const rangeRenderer: ShowRenderer<PyRange> = {
  atom: always,
  expand: (v) => atomic('range', rangeText(v), 'num'),
};

export const sliceRenderer: ShowRenderer<PySlice> = {
  atom: always,
  expand: (v, ctx) => atomic('slice', shortRepr(v, ctx.lossless), 'plain'),
};

export const pickleBufferRenderer: ShowRenderer<PickleBuffer> = {
  atom: always,
  expand: (v, ctx) => atomic('pickle.PickleBuffer', shortRepr(v, ctx.lossless), 'plain'),
};

/** JS Dates (pandas datetime cells). */
export const dateRenderer: ShowRenderer<Date> = {
  atom: always,
  expand: (v, ctx) => atomic('datetime.datetime', shortRepr(v, ctx.lossless), 'num'),
};

/** datetime, date, time, timedelta, timezone, Decimal, Fraction, UUID, … */
export const stdlibRenderer: ShowRenderer<object> = {
  atom: always,
  expand: (v) => atomic(stdlibName(v) ?? v.constructor.name, stdlibText(v), 'num', true),
};

function take<T>(it: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const x of it) {
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}

/** Lists, tuples, deques, dicts (Map or plain object), sets and frozensets. */
export const containerRenderer: ShowRenderer<object> = {
  atom: (v) => sizeOf(v) === 0,
  expand(v, ctx) {
    const n = sizeOf(v);
    if (n === 0) {
      const form = emptyForm(v);
      return { type: containerType(v), summary: form, head: [seg(form, 'type')], expandable: false };
    }
    const type = containerType(v);
    let shownType = type;
    if (v instanceof DefaultDict) shownType += `(${shortRepr(v.defaultFactory, ctx.lossless, 1)})`;
    if (v instanceof Deque && v.maxlen !== null) shownType += `(maxlen=${v.maxlen})`;
    const summary = `(${n} ${n === 1 ? 'item' : 'items'})`;
    let children: ShowChild[];
    if (Array.isArray(v)) {
      const shown = Math.min(n, ctx.items);
      children = [];
      for (let i = 0; i < shown; i++) children.push({ label: `[${i}]`, value: v[i] });
    } else if (v instanceof Map) {
      children = take(v, ctx.items).map(([k, x]) => ({ label: shortRepr(k, ctx.lossless, 1), value: x }));
    } else if (v instanceof Set) {
      children = take(v, ctx.items).map((x) => ({ label: '-', value: x }));
    } else {
      children = Object.keys(v)
        .slice(0, ctx.items)
        .map((k) => ({ label: reprStr(k), value: (v as Record<string, unknown>)[k] }));
    }
    return {
      type,
      summary,
      head: [seg(shownType, 'type'), seg(' '), seg(summary, 'note')],
      children,
      ...(n > children.length ? { more: `… ${n - children.length} more` } : {}),
      expandable: true,
    };
  },
  tally: () => ({ kind: 'container' }),
  *members(v) {
    if (Array.isArray(v) || v instanceof Set) yield* v as Iterable<unknown>;
    else if (v instanceof Map) {
      for (const [k, x] of v) {
        yield k;
        yield x;
      }
    } else for (const k of Object.keys(v)) yield (v as Record<string, unknown>)[k];
  },
};

function attrLabel(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : reprStr(k);
}

/** Instances of classes picklejar keeps inert: class name, then arguments, attributes and state. */
export const objectRenderer: ShowRenderer<PyObject> = {
  expand(v, ctx) {
    const children: ShowChild[] = [];
    if (v.__args__ && v.__args__.length > 0) children.push({ label: '(args)', value: v.__args__ });
    if (v.__kwargs__ && v.__kwargs__.size > 0) children.push({ label: '(kwargs)', value: v.__kwargs__ });
    const keys = Object.keys(v);
    const limit = Math.max(ctx.items, ATTRIBUTE_MIN);
    for (const k of keys.slice(0, limit)) children.push({ label: attrLabel(k), value: v[k] });
    if (v.__state__ !== undefined) children.push({ label: '(state)', value: v.__state__ });
    if (v.__items__ && v.__items__.length > 0) children.push({ label: '(items)', value: v.__items__ });
    if (v.__dictitems__ && v.__dictitems__.size > 0)
      children.push({ label: '(dictitems)', value: v.__dictitems__ });
    const more = keys.length - limit;
    return {
      type: v.__qualname__,
      summary: '',
      head: [seg(v.__qualname__, 'type')],
      children,
      ...(more > 0 ? { more: `… ${more} more attributes` } : {}),
      expandable: children.length > 0,
    };
  },
  tally: (v) => ({ kind: 'object', className: v.__qualname__ }),
  *members(v) {
    yield* v.__args__ ?? [];
    if (v.__kwargs__)
      for (const [k, x] of v.__kwargs__) {
        yield k;
        yield x;
      }
    for (const k of Object.keys(v)) yield v[k];
    yield v.__state__;
    yield* v.__items__ ?? [];
    if (v.__dictitems__)
      for (const [k, x] of v.__dictitems__) {
        yield k;
        yield x;
      }
  },
};

/** Anything else: its JS class name. */
export const unknownRenderer: ShowRenderer<object> = {
  atom: always,
  expand: (v) => atomic(v.constructor?.name ?? 'object', Object.prototype.toString.call(v), 'plain'),
};

/** The classes containerRenderer serves. */
export const CONTAINER_CLASSES = [
  Array,
  Tuple,
  Deque,
  Map,
  OrderedDict,
  DefaultDict,
  Counter,
  Set,
  FrozenSet,
];
