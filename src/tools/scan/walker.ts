/**
 * The scanner's walker: it follows the opcodes of one or more pickles (never building or calling
 * anything), models the stack and memo just enough to know which globals a stream imports and how it
 * uses them (called, built, referenced; getattr on literal names; joblib array payloads skipped), and
 * grades each through the policy table.
 */
import { UnpicklingError } from '../../errors.js';
import { renamedGlobal, worse, type Policy, type Verdict } from '../../unpickle/policy.js';
import { baseMessage, type GenOp } from '../genops.js';
import { memoryInput, type ScanInput } from './input.js';
import type { ScanGlobal, ScanSeverity, ScanUse } from './types.js';

const RANK: Record<ScanSeverity, number> = { safe: 0, unknown: 1, dangerous: 2 };

const BUILT_VERDICT: Verdict = {
  severity: 'dangerous',
  reason: 'BUILD sets attributes on the imported object itself',
};

interface Entry {
  module: string;
  name: string;
  offset: number;
  opcode: ScanGlobal['opcode'];
  use: ScanUse;
  pickle: number;
  /** Fixed verdict (unresolvable STACK_GLOBAL, extension codes). */
  fixed?: Verdict;
  /** builtins.getattr: the globals it was seen to produce from literal arguments. */
  getattrResults?: Entry[];
  /** builtins.getattr used in any other way than `getattr(<global>, '<literal>')`. */
  getattrOpaque?: boolean;
  /** Item stored in a container or passed as data (matters for getattr). */
  escaped?: boolean;
  /** BUILD applied state to the imported object itself (kept apart from `use`, which prefers 'called'). */
  built?: boolean;
  /** Synthesized (the result of a getattr), not an opcode of the stream. */
  virtual?: boolean;
}

type Item =
  | { k: 'str'; v: string }
  | { k: 'int'; v: number | bigint }
  | { k: 'none' }
  | { k: 'global'; e: Entry }
  | { k: 'tuple'; items: Item[] }
  | { k: 'dict'; entries: Map<string, Item> }
  | { k: 'dtype'; typestr: string | undefined; elsize: number | undefined; flags: number | undefined }
  | {
      k: 'obj';
      cls: Item;
      /** A joblib NumpyArrayWrapper (only when walking with joblib semantics). */
      wrapper: boolean;
      /** Arguments its __init__ ran with (REDUCE / OBJ / INST), for wrappers. */
      initArgs?: Item[];
      state?: Item;
    }
  | { k: 'other' };

const OTHER: Item = { k: 'other' };
const NONE: Item = { k: 'none' };

const STRING_OPS = new Set([
  'STRING',
  'BINSTRING',
  'SHORT_BINSTRING',
  'UNICODE',
  'BINUNICODE',
  'SHORT_BINUNICODE',
  'BINUNICODE8',
]);
const INT_OPS = new Set(['INT', 'BININT', 'BININT1', 'BININT2', 'LONG', 'LONG1', 'LONG4']);
const OPAQUE_PUSH_OPS = new Set([
  'FLOAT',
  'BINFLOAT',
  'BINBYTES',
  'SHORT_BINBYTES',
  'BINBYTES8',
  'BYTEARRAY8',
  'NEWTRUE',
  'NEWFALSE',
  'EMPTY_LIST',
  'EMPTY_SET',
  'NEXT_BUFFER',
  'PERSID',
]);

const MAX_ERRORS = 50;

export interface Ctx {
  /** The stream (bytes in memory or a file read through a window). */
  readonly input: ScanInput;
  /** The one policy table (with the caller's families) that grades every global. */
  readonly policy: Policy;
  readonly entries: Entry[];
  readonly errors: string[];
  arrays: number;
  /** Offsets where joblib array payloads start, with their lengths (for the plain-pickle pass). */
  readonly payloads: [number, number][];
}

function addError(ctx: Ctx, message: string): void {
  if (ctx.errors.length < MAX_ERRORS) ctx.errors.push(message);
  else if (ctx.errors.length === MAX_ERRORS) ctx.errors.push('(further errors omitted)');
}

function fullName(e: Entry): string {
  return `${e.module}.${e.name}`;
}

function isGetattr(e: Entry): boolean {
  if (e.fixed !== undefined) return false;
  const r = renamedGlobal(e.module, e.name);
  const [m, n] = r ?? [e.module, e.name];
  return m === 'builtins' && n === 'getattr';
}

function isGlobal(item: Item, names: readonly string[]): boolean {
  if (item.k !== 'global') return false;
  const r = renamedGlobal(item.e.module, item.e.name);
  let full = r !== undefined ? `${r[0]}.${r[1]}` : fullName(item.e);
  full = full.replace(/^numpy\._core\./, 'numpy.core.');
  return names.includes(full);
}

const USE_RANK: Record<ScanUse, number> = { referenced: 0, built: 1, called: 2 };

function setUse(e: Entry, use: ScanUse): void {
  if (USE_RANK[use] > USE_RANK[e.use]) e.use = use;
}

/** Items placed inside other values: a global there may be called by whatever receives it. */
function escape(item: Item): void {
  if (item.k === 'global') {
    item.e.escaped = true;
  } else if (item.k === 'tuple') {
    for (const x of item.items) if (x.k === 'global') x.e.escaped = true;
  }
}

function toInt(item: Item | undefined): number | undefined {
  if (item === undefined || item.k !== 'int') return undefined;
  const v = Number(item.v);
  return Number.isSafeInteger(v) ? v : undefined;
}

const WRAPPER_NAMES = [
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
];
const RECONSTRUCTOR_NAMES = ['copyreg._reconstructor'];
const DTYPE_NAMES = ['numpy.dtype', 'numpy.core.multiarray.dtype'];

/** Byte size of one element of a dtype item, and whether it holds Python objects. */
function dtypeInfo(d: Item | undefined): { itemsize: number; hasObject: boolean } | undefined {
  if (d === undefined || d.k !== 'dtype') return undefined;
  const flags = d.flags ?? 0;
  const m = d.typestr !== undefined ? /^([a-zA-Z])(\d+)$/.exec(d.typestr) : null;
  const kind = m?.[1];
  const hasObject = kind === 'O' || (flags & 1) !== 0;
  if (d.elsize !== undefined && d.elsize > 0) return { itemsize: d.elsize, hasObject };
  if (m === null) return hasObject ? { itemsize: 8, hasObject } : undefined;
  const n = Number(m[2]);
  return { itemsize: kind === 'U' ? n * 4 : n, hasObject };
}

interface WalkResult {
  /** Offset after STOP (or where walking stopped). */
  end: number;
  complete: boolean;
  protocol: number;
}

/**
 * Walk one pickle from `start`. With `joblib`, a BUILD on a NumpyArrayWrapper is followed by the
 * array payload, as joblib's unpickler reads it. Byte-level problems end the walk; modelling
 * problems (underflow, unknown memo keys) are recorded and the walk goes on with placeholders, so
 * that a stream our model misreads still has all its globals listed.
 */
function walkPickle(ctx: Ctx, start: number, pickleIndex: number, joblib: boolean): WalkResult {
  const data = ctx.input;
  let stack: Item[] = [];
  const marks: Item[][] = [];
  const memo = new Map<number, Item>();
  let protocol = -1;
  let opProto = 0;
  let pos = start;
  let reportedUnderflow = false;

  const underflow = (g: GenOp): void => {
    if (!reportedUnderflow) addError(ctx, `offset ${g.pos} (${g.op.name}): stack underflow`);
    reportedUnderflow = true;
  };
  const pop = (g: GenOp): Item => {
    const v = stack.pop();
    if (v === undefined) {
      underflow(g);
      return OTHER;
    }
    return v;
  };
  const top = (g: GenOp): Item => {
    const v = stack[stack.length - 1];
    if (v === undefined) {
      underflow(g);
      return OTHER;
    }
    return v;
  };
  const popMark = (g: GenOp): Item[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) {
      addError(ctx, `offset ${g.pos} (${g.op.name}): no MARK on the stack`);
      stack = [];
      return items;
    }
    stack = prev;
    return items;
  };
  const newEntry = (
    module: string,
    name: string,
    g: GenOp,
    opcode: Entry['opcode'],
    fixed?: Verdict,
  ): Entry => {
    const e: Entry = { module, name, offset: g.pos, opcode, use: 'referenced', pickle: pickleIndex };
    if (fixed !== undefined) e.fixed = fixed;
    ctx.entries.push(e);
    return e;
  };
  const called = (callable: Item): void => {
    if (callable.k === 'global') setUse(callable.e, 'called');
  };

  for (;;) {
    let g: GenOp;
    try {
      g = data.op(pos);
    } catch (e) {
      if (e instanceof UnpicklingError) {
        addError(
          ctx,
          pos >= data.length ? `offset ${pos}: pickle ends before STOP` : `offset ${pos}: ${baseMessage(e)}`,
        );
        return { end: pos, complete: false, protocol: Math.max(protocol, opProto) };
      }
      throw e;
    }
    pos = g.end;
    const name = g.op.name;
    opProto = Math.max(opProto, g.op.proto);
    if (STRING_OPS.has(name)) {
      stack.push({ k: 'str', v: g.arg as string });
      continue;
    }
    if (INT_OPS.has(name)) {
      const a = g.arg;
      stack.push(typeof a === 'number' || typeof a === 'bigint' ? { k: 'int', v: a } : OTHER);
      continue;
    }
    if (OPAQUE_PUSH_OPS.has(name)) {
      stack.push(OTHER);
      continue;
    }
    switch (name) {
      case 'PROTO': {
        const p = g.arg as number;
        if (p > 5) addError(ctx, `offset ${g.pos}: unsupported pickle protocol ${p}`);
        protocol = Math.max(protocol, p);
        break;
      }
      case 'FRAME':
        break;
      case 'STOP':
        pop(g);
        return { end: pos, complete: true, protocol: protocol >= 0 ? protocol : opProto };
      case 'NONE':
        stack.push(NONE);
        break;
      case 'MARK':
        marks.push(stack);
        stack = [];
        break;
      case 'POP':
        if (stack.length === 0 && marks.length > 0) popMark(g);
        else pop(g);
        break;
      case 'POP_MARK':
        popMark(g);
        break;
      case 'DUP':
        stack.push(top(g));
        break;
      case 'EMPTY_TUPLE':
        stack.push({ k: 'tuple', items: [] });
        break;
      case 'TUPLE': {
        const items = popMark(g);
        items.forEach(escape);
        stack.push({ k: 'tuple', items });
        break;
      }
      case 'TUPLE1':
      case 'TUPLE2':
      case 'TUPLE3': {
        const n = name === 'TUPLE1' ? 1 : name === 'TUPLE2' ? 2 : 3;
        const items: Item[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop(g));
        items.forEach(escape);
        stack.push({ k: 'tuple', items });
        break;
      }
      case 'LIST':
        popMark(g).forEach(escape);
        stack.push(OTHER);
        break;
      case 'FROZENSET':
        popMark(g).forEach(escape);
        stack.push(OTHER);
        break;
      case 'EMPTY_DICT':
        stack.push({ k: 'dict', entries: new Map() });
        break;
      case 'DICT': {
        const items = popMark(g);
        const d: Item = { k: 'dict', entries: new Map() };
        for (let i = 0; i + 1 < items.length; i += 2) {
          const key = items[i] as Item;
          const value = items[i + 1] as Item;
          escape(key);
          escape(value);
          if (key.k === 'str') d.entries.set(key.v, value);
        }
        stack.push(d);
        break;
      }
      case 'APPEND':
        escape(pop(g));
        top(g);
        break;
      case 'APPENDS':
      case 'ADDITEMS':
        popMark(g).forEach(escape);
        top(g);
        break;
      case 'SETITEM': {
        const value = pop(g);
        const key = pop(g);
        escape(key);
        escape(value);
        const d = top(g);
        if (d.k === 'dict' && key.k === 'str') d.entries.set(key.v, value);
        break;
      }
      case 'SETITEMS': {
        const items = popMark(g);
        const d = top(g);
        for (let i = 0; i + 1 < items.length; i += 2) {
          const key = items[i] as Item;
          const value = items[i + 1] as Item;
          escape(key);
          escape(value);
          if (d.k === 'dict' && key.k === 'str') d.entries.set(key.v, value);
        }
        break;
      }
      case 'PUT':
      case 'BINPUT':
      case 'LONG_BINPUT': {
        const idx = typeof g.arg === 'boolean' ? Number(g.arg) : Number(g.arg);
        memo.set(idx, top(g));
        break;
      }
      case 'MEMOIZE':
        memo.set(memo.size, top(g));
        break;
      case 'GET':
      case 'BINGET':
      case 'LONG_BINGET': {
        const idx = typeof g.arg === 'boolean' ? Number(g.arg) : Number(g.arg);
        const v = memo.get(idx);
        if (v === undefined)
          addError(ctx, `offset ${g.pos} (${name}): memo key ${String(g.arg)} was never stored`);
        stack.push(v ?? OTHER);
        break;
      }
      case 'GLOBAL': {
        const [module, attr] = splitPair(g.arg as string);
        stack.push({ k: 'global', e: newEntry(module, attr, g, 'GLOBAL') });
        break;
      }
      case 'INST': {
        const [module, attr] = splitPair(g.arg as string);
        const e = newEntry(module, attr, g, 'INST');
        e.use = 'called';
        const args = popMark(g);
        args.forEach(escape);
        const cls: Item = { k: 'global', e };
        stack.push(wrapperOr(joblib, cls, args));
        break;
      }
      case 'STACK_GLOBAL': {
        const attr = pop(g);
        const module = pop(g);
        if (module.k === 'str' && attr.k === 'str') {
          stack.push({ k: 'global', e: newEntry(module.v, attr.v, g, 'STACK_GLOBAL') });
        } else {
          const m = module.k === 'str' ? module.v : `<${describeItem(module)}>`;
          const n = attr.k === 'str' ? attr.v : `<${describeItem(attr)}>`;
          const e = newEntry(m, n, g, 'STACK_GLOBAL', {
            severity: 'dangerous',
            reason: 'STACK_GLOBAL operands are not plain strings: the imported name cannot be determined',
          });
          stack.push({ k: 'global', e });
        }
        break;
      }
      case 'EXT1':
      case 'EXT2':
      case 'EXT4': {
        const e = newEntry('<extension>', String(g.arg), g, name, {
          severity: 'unknown',
          reason: 'copyreg extension code: resolves to whatever global the reading process registered',
        });
        stack.push({ k: 'global', e });
        break;
      }
      case 'REDUCE': {
        const args = pop(g);
        const callable = pop(g);
        called(callable);
        escape(args);
        stack.push(reduceResult(callable, args, g, joblib));
        break;
      }
      case 'NEWOBJ': {
        const args = pop(g);
        const cls = pop(g);
        called(cls);
        escape(args);
        stack.push({ k: 'obj', cls, wrapper: joblib && isGlobal(cls, WRAPPER_NAMES) });
        break;
      }
      case 'NEWOBJ_EX': {
        const kwargs = pop(g);
        const args = pop(g);
        const cls = pop(g);
        called(cls);
        escape(args);
        escape(kwargs);
        stack.push({ k: 'obj', cls, wrapper: joblib && isGlobal(cls, WRAPPER_NAMES) });
        break;
      }
      case 'OBJ': {
        const items = popMark(g);
        const cls = items.shift() ?? OTHER;
        called(cls);
        items.forEach(escape);
        stack.push(wrapperOr(joblib, cls, items));
        break;
      }
      case 'BUILD': {
        const state = pop(g);
        const target = top(g);
        escape(state);
        if (target.k === 'global') {
          setUse(target.e, 'built');
          target.e.built = true;
        } else if (target.k === 'dtype' && state.k === 'tuple') {
          const el = toInt(state.items[5]);
          const fl = toInt(state.items[7]);
          if (el !== undefined) target.elsize = el;
          if (fl !== undefined) target.flags = fl;
        } else if (target.k === 'obj') {
          target.state = state;
          if (target.wrapper) {
            const next = skipJoblibPayload(ctx, g, target, state, pos, pickleIndex);
            if (next === undefined)
              return { end: pos, complete: false, protocol: Math.max(protocol, opProto) };
            pos = next;
            stack[stack.length - 1] = OTHER; // the array replaces the wrapper
          }
        }
        break;
      }
      case 'BINPERSID':
        pop(g);
        stack.push(OTHER);
        break;
      case 'READONLY_BUFFER':
        top(g);
        break;
      default:
        addError(ctx, `offset ${g.pos}: opcode ${name} not modelled`);
        break;
    }
  }
}

function splitPair(arg: string): [string, string] {
  const sp = arg.indexOf(' ');
  return sp < 0 ? [arg, ''] : [arg.slice(0, sp), arg.slice(sp + 1)];
}

function describeItem(item: Item): string {
  switch (item.k) {
    case 'global':
      return `global ${fullName(item.e)}`;
    case 'obj':
      return 'result of a call';
    case 'other':
      return 'non-string value';
    default:
      return item.k;
  }
}

/** The value REDUCE leaves on the stack (dtype and getattr get special treatment). */
function reduceResult(callable: Item, args: Item, g: GenOp, joblib: boolean): Item {
  if (joblib && isGlobal(callable, RECONSTRUCTOR_NAMES) && args.k === 'tuple') {
    // Protocols 0-1 create plain instances through copyreg._reconstructor(cls, object, None).
    const cls = args.items[0];
    if (cls !== undefined && isGlobal(cls, WRAPPER_NAMES)) return { k: 'obj', cls, wrapper: true };
  }
  if (joblib && args.k === 'tuple') {
    const w = wrapperOr(joblib, callable, args.items);
    if (w.k === 'obj' && w.wrapper) return w;
  }
  if (isGlobal(callable, DTYPE_NAMES) && args.k === 'tuple') {
    const first = args.items[0];
    return {
      k: 'dtype',
      typestr: first?.k === 'str' ? first.v : undefined,
      elsize: undefined,
      flags: undefined,
    };
  }
  if (callable.k === 'global' && isGetattr(callable.e)) {
    const e = callable.e;
    const target = args.k === 'tuple' && args.items.length === 2 ? args.items[0] : undefined;
    const attr = args.k === 'tuple' && args.items.length === 2 ? args.items[1] : undefined;
    if (target?.k === 'global' && attr?.k === 'str' && target.e.fixed === undefined) {
      // getattr(<global>, '<name>') is the global `module.name.attr` (how protocols < 4 write
      // nested names such as `zoneinfo.ZoneInfo._unpickle`).
      const v: Entry = {
        module: target.e.module,
        name: `${target.e.name}.${attr.v}`,
        offset: g.pos,
        opcode: target.e.opcode,
        use: 'referenced',
        pickle: e.pickle,
        virtual: true,
      };
      (e.getattrResults ??= []).push(v);
      return { k: 'global', e: v };
    }
    e.getattrOpaque = true;
  }
  return { k: 'obj', cls: callable, wrapper: false };
}

/** An instance created by calling `cls(*args)`: a wrapper (with its __init__ arguments) or opaque. */
function wrapperOr(joblib: boolean, cls: Item, args: Item[]): Item {
  if (joblib && isGlobal(cls, WRAPPER_NAMES)) return { k: 'obj', cls, wrapper: true, initArgs: args };
  return { k: 'obj', cls, wrapper: false };
}

/** NumpyArrayWrapper.__init__ parameters, in order (joblib >= 1.2; the last one defaults to 16). */
const WRAPPER_INIT = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];

/**
 * The wrapper's attributes when joblib reads the payload: those its __init__ set (when it was called
 * rather than created with NEWOBJ), updated by the BUILD state (a dict, or a (dict, slots) pair).
 */
function wrapperAttributes(target: Item, state: Item): Map<string, Item> | undefined {
  const attrs = new Map<string, Item>();
  if (target.k === 'obj' && target.initArgs !== undefined) {
    target.initArgs.forEach((a, i) => {
      const key = WRAPPER_INIT[i];
      if (key !== undefined) attrs.set(key, a);
    });
    if (target.initArgs.length < WRAPPER_INIT.length)
      attrs.set('numpy_array_alignment_bytes', { k: 'int', v: 16 });
  }
  const parts = state.k === 'tuple' && state.items.length === 2 ? state.items : [state];
  for (const part of parts) {
    if (part.k === 'dict') for (const [k, v] of part.entries) attrs.set(k, v);
    else if (part.k !== 'none') return undefined;
  }
  return attrs;
}

/**
 * After the BUILD of a NumpyArrayWrapper at `g`, joblib reads the array from the stream: an optional
 * alignment byte plus padding, then shape × itemsize raw bytes (or a nested pickle for object
 * arrays). Returns the offset where the outer pickle resumes, or undefined when the payload cannot
 * be delimited.
 */
function skipJoblibPayload(
  ctx: Ctx,
  g: GenOp,
  target: Item,
  state: Item,
  pos: number,
  pickleIndex: number,
): number | undefined {
  const where = `offset ${g.pos} (BUILD of joblib NumpyArrayWrapper)`;
  const attrs = wrapperAttributes(target, state);
  if (attrs === undefined) {
    addError(ctx, `${where}: state is not a dict; cannot locate the array data`);
    return undefined;
  }
  const info = dtypeInfo(attrs.get('dtype'));
  if (info === undefined) {
    addError(ctx, `${where}: dtype not understood; cannot locate the array data`);
    return undefined;
  }
  ctx.arrays++;
  if (info.hasObject) {
    // Object arrays travel as a complete nested pickle, read by the plain pickle module.
    const nested = walkPickle(ctx, pos, pickleIndex, false);
    return nested.complete ? nested.end : undefined;
  }
  const shape = attrs.get('shape');
  let count = 1;
  if (shape?.k === 'tuple') {
    for (const d of shape.items) {
      const n = toInt(d);
      if (n === undefined || n < 0) {
        addError(ctx, `${where}: shape not understood; cannot locate the array data`);
        return undefined;
      }
      count *= n;
    }
  } else {
    addError(ctx, `${where}: shape not understood; cannot locate the array data`);
    return undefined;
  }
  let p = pos;
  const align = attrs.get('numpy_array_alignment_bytes');
  if (align !== undefined && align.k !== 'none') {
    const pad = ctx.input.byte(p);
    if (pad === undefined) {
      addError(ctx, `${where}: stream ends before the array padding`);
      return undefined;
    }
    p += 1 + pad;
  }
  const nbytes = count * info.itemsize;
  if (!Number.isSafeInteger(nbytes) || p + nbytes > ctx.input.length) {
    addError(ctx, `${where}: array of ${nbytes} bytes runs past the end of the stream`);
    return undefined;
  }
  ctx.payloads.push([pos, p + nbytes - pos]);
  return p + nbytes;
}

export function finalize(e: Entry, policy: Policy): ScanGlobal {
  let v: Verdict;
  if (e.fixed !== undefined) {
    v = e.fixed;
  } else if (isGetattr(e)) {
    v = policy.classify(e.module, e.name, e.use);
    const results = e.getattrResults ?? [];
    if (!e.getattrOpaque && !e.escaped && e.use === 'called' && results.length > 0) {
      // Only ever called on literal (global, 'name') pairs: grade it as the worst name it produced.
      v = { severity: 'safe', reason: '' };
      const names: string[] = [];
      for (const r of results) {
        const rv = finalize(r, policy);
        if (RANK[rv.severity] > RANK[v.severity] || v.reason === '')
          v = { severity: rv.severity, reason: rv.reason ?? '' };
        names.push(`${r.module}.${r.name}`);
      }
      v = {
        severity: v.severity,
        reason: `getattr used only to reach ${[...new Set(names)].join(', ')} (${v.reason})`,
      };
    }
  } else {
    v = policy.classify(e.module, e.name, e.use);
  }
  if (e.built && e.fixed === undefined) v = worse(v, BUILT_VERDICT);
  const g: ScanGlobal = {
    module: e.module,
    name: e.name,
    offset: e.offset,
    opcode: e.opcode,
    use: e.use,
    severity: v.severity,
    reason: v.reason,
    pickle: e.pickle,
  };
  const r = e.fixed === undefined ? renamedGlobal(e.module, e.name) : undefined;
  if (r !== undefined) g.resolved = `${r[0]}.${r[1]}`;
  return g;
}

/** Walk every pickle in `data` (only the first with `firstOnly`); `joblib` enables payload skipping. */
export function walkAll(
  input: Uint8Array | ScanInput,
  policy: Policy,
  joblib: boolean,
  firstOnly = false,
): { ctx: Ctx; pickles: number; protocol: number } {
  const data = input instanceof Uint8Array ? memoryInput(input) : input;
  const ctx: Ctx = { input: data, policy, entries: [], errors: [], arrays: 0, payloads: [] };
  let pos = 0;
  let pickles = 0;
  let protocol = -1;
  while (pos < data.length) {
    const before = ctx.errors.length;
    const r = walkPickle(ctx, pos, pickles, joblib);
    if (!r.complete) {
      if (pickles > 0 && r.end === pos && ctx.errors.length > before) {
        ctx.errors[before] =
          `offset ${pos}: ${data.length - pos} trailing bytes after the last pickle are not a pickle (${ctx.errors[before]})`;
      }
      if (pickles === 0 || r.end > pos) protocol = Math.max(protocol, r.protocol);
      break;
    }
    pickles++;
    protocol = Math.max(protocol, r.protocol);
    pos = r.end;
    if (firstOnly) break;
  }
  if (data.length === 0) addError(ctx, 'empty input');
  return { ctx, pickles, protocol: Math.max(protocol, 0) };
}
