/**
 * The opcode listing of joblib streams, read in pieces. Two layers over genops' public `readOp` and
 * the disassembler:
 *
 * - `sourceReader` reads opcodes from a ByteSource (e.g. a file read with positioned reads) through a
 *   window that moves along the stream, so listing a 250 MB file holds about a megabyte of it.
 * - `joblibWatcher` follows joblib's NumpyArrayWrapper objects with a light model of the pickle
 *   machine (strings, ints, tuples, dicts, globals and dtypes; everything else is opaque). After the
 *   BUILD of a wrapper, joblib writes the array's bytes into the stream (docs/FORMATS.md §5.3): the listing
 *   prints one line for them — `  224: [array payload: 40 bytes, float64 (5,), padding 2]` — and
 *   continues after them; an object array's payload is a pickle of its own, listed in place. Python's
 *   pickletools stops at the first payload ("opcode … unknown").
 *
 * Plain pickles list exactly as `python -m pickletools` lists them.
 */
import { UnpicklingError } from '../errors.js';
import { applyDTypeState, DType, dtypeFromReduce } from '../numpy/dtype.js';
import { PyGlobal, Tuple } from '../python/values.js';
import type { DecodeContext } from '../unpickle/registry.js';
import { baseMessage, readOp, type GenOp } from './genops.js';
import {
  disassembleTo,
  type AfterOp,
  type DisassembleOptions,
  type OpReader,
  type OpWatcher,
} from './dis.js';

/** Bytes read by position, e.g. from a file (`read` may return fewer bytes only at the end). */
export interface ByteSource {
  readonly size: number;
  read(pos: number, length: number): Uint8Array;
}

/** First window size: most opcodes of a pickle are a few bytes; payloads are skipped, not read. */
const WINDOW = 1 << 20;

/**
 * Opcodes from a ByteSource through a window: an opcode that does not fit the window is read again
 * with a window twice as large (up to the end of the source), so arguments of any size work.
 * @example
 * const reader = sourceReader({ size: st.size, read: (pos, n) => readChunk(fd, pos, n) });
 */
export function sourceReader(source: ByteSource, window = WINDOW): OpReader {
  let win: Uint8Array = new Uint8Array(0);
  let start = 0;
  const load = (pos: number, n: number): void => {
    win = source.read(pos, Math.min(n, source.size - pos));
    start = pos;
  };
  return {
    length: source.size,
    bytes(pos, n) {
      if (pos >= start && pos + n <= start + win.length) return win.subarray(pos - start, pos - start + n);
      return source.read(pos, Math.max(0, Math.min(n, source.size - pos)));
    },
    readOp(pos) {
      let want = window;
      if (pos < start || pos >= start + win.length) load(pos, want);
      for (;;) {
        try {
          const op = readOp(win, pos - start);
          if (start === 0) return op;
          return { ...op, pos: op.pos + start, end: op.end + start };
        } catch (e) {
          if (!(e instanceof UnpicklingError)) throw e;
          if (start + win.length >= source.size) throw absolute(e, start);
          want = Math.max(want, win.length) * 2;
          load(pos, want);
        }
      }
    },
  };
}

/** A readOp error with offsets in the whole stream instead of the window. */
function absolute(e: UnpicklingError, start: number): UnpicklingError {
  if (start === 0 || e.offset < 0) return e;
  const at = e.offset + start;
  const message = baseMessage(e).replace(`at position ${e.offset},`, `at position ${at},`);
  return new UnpicklingError(message, at, e.opcode, e.code);
}

// ---------------------------------------------------------------------------------------------
// The light model of the pickle machine
// ---------------------------------------------------------------------------------------------

/** A value the model does not follow. */
const OPAQUE: unique symbol = Symbol('opaque');

/** A joblib NumpyArrayWrapper under construction. */
class Wrapper {
  constructor(
    /** __init__ arguments when the wrapper was called (REDUCE/OBJ/INST) instead of NEWOBJ. */
    readonly initArgs: readonly Item[] | undefined,
  ) {}
}

/** Values of the model: what the wrapper's state dict holds (and what builds it). */
type Item =
  | typeof OPAQUE
  | null
  | boolean
  | string
  | bigint
  | PyGlobal
  | Tuple<Item>
  | Map<string, Item>
  | DType
  | Wrapper;

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
const WRAPPER_NAMES = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);
const DTYPE_NAMES = new Set(['numpy.dtype', 'numpy.core.multiarray.dtype', 'numpy._core.multiarray.dtype']);
/** Protocol 0/1 pickles name it with its Python 2 module name. */
const RECONSTRUCTOR_NAMES = new Set(['copyreg._reconstructor', 'copy_reg._reconstructor']);
/** NumpyArrayWrapper.__init__ parameters, in order (joblib >= 1.2; the last one defaults to 16). */
const WRAPPER_INIT = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];

function isGlobal(x: Item | undefined, names: ReadonlySet<string>): boolean {
  return x instanceof PyGlobal && names.has(x.qualifiedName);
}

/** What the dtype code needs from a decoding context (errors only: nothing is read or decoded). */
function context(g: GenOp): DecodeContext {
  return {
    lossless: true,
    protocol: 0,
    offset: g.pos,
    opcode: g.op.name,
    encoding: 'latin1',
    toInt: (v) =>
      typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : (v as number | bigint),
    error: (m) => new UnpicklingError(m, g.pos, g.op.name),
    readRaw: () => {
      throw new UnpicklingError('no stream access', g.pos, g.op.name);
    },
    loadNested: () => {
      throw new UnpicklingError('no stream access', g.pos, g.op.name);
    },
    makeDict: (entries) => new Map(entries),
    resolveGlobal: (module, name) => new PyGlobal(module, name),
  };
}

/** The wrapper's attributes when joblib reads the payload: __init__ arguments, then the BUILD state. */
function wrapperAttributes(w: Wrapper, state: Item): Map<string, Item> | undefined {
  const attrs = new Map<string, Item>();
  if (w.initArgs !== undefined) {
    w.initArgs.forEach((a, i) => {
      const key = WRAPPER_INIT[i];
      if (key !== undefined) attrs.set(key, a);
    });
    if (w.initArgs.length < WRAPPER_INIT.length) attrs.set('numpy_array_alignment_bytes', 16n);
  }
  const parts = state instanceof Tuple && state.length === 2 ? [...state] : [state];
  for (const part of parts) {
    if (part instanceof Map) for (const [k, v] of part) attrs.set(k, v);
    else if (part !== null) return undefined;
  }
  return attrs;
}

/** numpy's name for simple dtypes (`float64`, `<U5` as `str160`); structured ones by their fields. */
function dtypeName(dt: DType): string {
  if (dt.subarray !== null) return `(${dtypeName(dt.subarray.base)}, ${shapeText(dt.subarray.shape)})`;
  if (dt.names === null || dt.fields === null) return dt.names === null ? dt.name : dt.str;
  const fields = dt.fields;
  const field = (n: string): string => {
    const f = fields.get(n)?.dtype;
    if (f === undefined) return '?';
    return f.names === null && f.subarray === null ? `'${f.str}'` : dtypeName(f);
  };
  return `[${dt.names.map((n) => `('${n}', ${field(n)})`).join(', ')}]`;
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * A watcher that follows joblib's array wrappers through one pickle and places the payload that
 * follows each wrapper's BUILD.
 * @example
 * disassembleTo(reader, {}, write, joblibWatcher);
 */
function joblibWatcher(): OpWatcher {
  let stack: Item[] = [];
  const marks: Item[][] = [];
  const memo = new Map<number, Item>();
  const pop = (): Item => stack.pop() ?? OPAQUE;
  const top = (): Item => stack[stack.length - 1] ?? OPAQUE;
  const popMark = (): Item[] => {
    const items = stack;
    stack = marks.pop() ?? [];
    return items;
  };
  const called = (callable: Item, args: readonly Item[] | undefined, g: GenOp): Item => {
    if (isGlobal(callable, WRAPPER_NAMES)) return new Wrapper(args);
    if (isGlobal(callable, DTYPE_NAMES) && args !== undefined) {
      try {
        return dtypeFromReduce(Tuple.from_(args as unknown[]), context(g));
      } catch {
        return OPAQUE;
      }
    }
    // copyreg._reconstructor(cls, object, None): how protocols 0-1 create plain instances.
    if (isGlobal(callable, RECONSTRUCTOR_NAMES) && args) {
      if (isGlobal(args[0], WRAPPER_NAMES)) return new Wrapper(undefined);
    }
    return OPAQUE;
  };

  return {
    after(g, reader): AfterOp | undefined {
      const name = g.op.name;
      const arg = g.arg;
      if (STRING_OPS.has(name)) {
        stack.push(typeof arg === 'string' ? arg : OPAQUE);
        return undefined;
      }
      if (INT_OPS.has(name)) {
        stack.push(
          typeof arg === 'boolean'
            ? arg
            : typeof arg === 'number' || typeof arg === 'bigint'
              ? BigInt(arg)
              : OPAQUE,
        );
        return undefined;
      }
      switch (name) {
        case 'PROTO':
        case 'FRAME':
          return undefined;
        case 'NONE':
          stack.push(null);
          return undefined;
        case 'NEWTRUE':
        case 'NEWFALSE':
          stack.push(name === 'NEWTRUE');
          return undefined;
        case 'MARK':
          marks.push(stack);
          stack = [];
          return undefined;
        case 'POP':
          if (stack.length === 0 && marks.length > 0) popMark();
          else pop();
          return undefined;
        case 'POP_MARK':
          popMark();
          return undefined;
        case 'DUP':
          stack.push(top());
          return undefined;
        case 'EMPTY_TUPLE':
          stack.push(Tuple.from_<Item>([]));
          return undefined;
        case 'TUPLE': {
          // popMark() replaces `stack`: take the items before pushing.
          const t = Tuple.from_(popMark());
          stack.push(t);
          return undefined;
        }
        case 'TUPLE1':
        case 'TUPLE2':
        case 'TUPLE3': {
          const n = name === 'TUPLE1' ? 1 : name === 'TUPLE2' ? 2 : 3;
          const items: Item[] = [];
          for (let i = 0; i < n; i++) items.unshift(pop());
          stack.push(Tuple.from_(items));
          return undefined;
        }
        case 'EMPTY_DICT':
          stack.push(new Map());
          return undefined;
        case 'DICT': {
          const items = popMark();
          const d = new Map<string, Item>();
          for (let i = 0; i + 1 < items.length; i += 2) {
            const k = items[i];
            if (typeof k === 'string') d.set(k, items[i + 1] as Item);
          }
          stack.push(d);
          return undefined;
        }
        case 'SETITEM': {
          const v = pop();
          const k = pop();
          const d = top();
          if (d instanceof Map && typeof k === 'string') d.set(k, v);
          return undefined;
        }
        case 'SETITEMS': {
          const items = popMark();
          const d = top();
          for (let i = 0; i + 1 < items.length; i += 2) {
            const k = items[i];
            if (d instanceof Map && typeof k === 'string') d.set(k, items[i + 1] as Item);
          }
          return undefined;
        }
        case 'PUT':
        case 'BINPUT':
        case 'LONG_BINPUT':
          memo.set(Number(arg), top());
          return undefined;
        case 'MEMOIZE':
          memo.set(memo.size, top());
          return undefined;
        case 'GET':
        case 'BINGET':
        case 'LONG_BINGET':
          stack.push(memo.get(Number(arg)) ?? OPAQUE);
          return undefined;
        case 'GLOBAL': {
          const text = typeof arg === 'string' ? arg : '';
          const sp = text.indexOf(' ');
          stack.push(new PyGlobal(text.slice(0, sp), text.slice(sp + 1)));
          return undefined;
        }
        case 'STACK_GLOBAL': {
          const attr = pop();
          const module = pop();
          stack.push(
            typeof module === 'string' && typeof attr === 'string' ? new PyGlobal(module, attr) : OPAQUE,
          );
          return undefined;
        }
        case 'INST': {
          const text = typeof arg === 'string' ? arg : '';
          const sp = text.indexOf(' ');
          const args = popMark();
          stack.push(called(new PyGlobal(text.slice(0, sp), text.slice(sp + 1)), args, g));
          return undefined;
        }
        case 'OBJ': {
          const items = popMark();
          const cls = items.shift() ?? OPAQUE;
          stack.push(called(cls, items, g));
          return undefined;
        }
        case 'REDUCE': {
          const args = pop();
          const callable = pop();
          stack.push(called(callable, args instanceof Tuple ? [...args] : undefined, g));
          return undefined;
        }
        case 'NEWOBJ':
        case 'NEWOBJ_EX': {
          if (name === 'NEWOBJ_EX') pop();
          pop();
          const cls = pop();
          stack.push(isGlobal(cls, WRAPPER_NAMES) ? new Wrapper(undefined) : OPAQUE);
          return undefined;
        }
        case 'BUILD': {
          const state = pop();
          const target = top();
          if (target instanceof DType) {
            try {
              applyDTypeState(target, state, context(g));
            } catch {
              stack[stack.length - 1] = OPAQUE;
            }
            return undefined;
          }
          if (!(target instanceof Wrapper)) return undefined;
          // The array replaces the wrapper.
          stack[stack.length - 1] = OPAQUE;
          return payload(g, target, state, reader);
        }
        default: {
          // Everything else only moves opaque values: pop what the opcode takes, push what it gives.
          const before = g.op.before;
          const m = before.indexOf('mark');
          if (m >= 0) {
            popMark();
            for (let i = 0; i < m; i++) pop();
          } else for (let i = 0; i < before.length; i++) pop();
          for (const x of g.op.after) if (x !== 'mark') stack.push(OPAQUE);
          return undefined;
        }
      }
    },
  };
}

/** The line for the payload after a wrapper's BUILD at `g`, and where the pickle resumes. */
function payload(g: GenOp, w: Wrapper, state: Item, reader: OpReader): AfterOp {
  const fail = (why: string): never => {
    throw new UnpicklingError(
      `BUILD of a joblib NumpyArrayWrapper: ${why}`,
      g.pos,
      g.op.name,
      'invalid-value',
    );
  };
  const attrs =
    wrapperAttributes(w, state) ?? fail('its state is not a dict, so the array data cannot be located');
  const dtype = attrs.get('dtype');
  if (!(dtype instanceof DType)) return fail('dtype not understood, so the array data cannot be located');
  const shapeItem = attrs.get('shape');
  const shape: number[] = [];
  if (!(shapeItem instanceof Tuple)) return fail('shape not understood, so the array data cannot be located');
  for (const d of shapeItem) {
    if (typeof d !== 'bigint' || d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER))
      return fail('shape not understood, so the array data cannot be located');
    shape.push(Number(d));
  }
  const at = g.end;
  const where = (p: number): string => `${String(p).padStart(5)}: `;
  if (dtype.hasObject) {
    // A complete pickle of its own (its own memo), written by the C pickler; no padding.
    return {
      lines: `${where(at)}[array payload: object ${shapeText(shape)}, a pickle of its own follows, through its STOP]\n`,
      nested: at,
    };
  }
  let count = 1;
  for (const d of shape) count *= d;
  const nbytes = count * dtype.itemsize;
  let dataAt = at;
  let padding: number | undefined;
  const align = attrs.get('numpy_array_alignment_bytes');
  if (align !== undefined && align !== null) {
    const b = reader.bytes(at, 1);
    if (b.length < 1)
      throw new UnpicklingError('pickle exhausted before the array payload', at, g.op.name, 'truncated');
    padding = b[0] as number;
    dataAt = at + 1 + padding;
  }
  if (!Number.isSafeInteger(nbytes) || dataAt + nbytes > reader.length) {
    throw new UnpicklingError(
      `array payload of ${nbytes} bytes at ${dataAt} runs past the end of the stream (${reader.length} bytes)`,
      at,
      g.op.name,
      'truncated',
    );
  }
  const order = attrs.get('order') === 'F' ? ', order F' : '';
  const pad = padding !== undefined ? `, padding ${padding}` : '';
  return {
    lines: `${where(dataAt)}[array payload: ${nbytes} bytes, ${dtypeName(dtype)} ${shapeText(shape)}${order}${pad}]\n`,
    resume: dataAt + nbytes,
  };
}

/**
 * The listing of a joblib stream (or any pickle), read from `source` in pieces and handed to `write`
 * as it is produced: pickletools' text, with one line per array payload where joblib put one.
 * Throws DisassemblyError (its `output`: text not yet written) where the stream is malformed.
 * @example
 * disassembleJoblib({ size: bytes.length, read: (p, n) => bytes.subarray(p, p + n) }, {}, (t) => out.push(t));
 */
export function disassembleJoblib(
  source: ByteSource | OpReader,
  options: DisassembleOptions,
  write: (text: string) => void,
): void {
  const reader = 'readOp' in source ? source : sourceReader(source);
  disassembleTo(reader, options, write, joblibWatcher);
}
