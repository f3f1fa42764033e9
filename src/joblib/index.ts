/**
 * joblib's array wrappers. joblib replaces every numpy array in the pickle by a wrapper object whose
 * BUILD is followed by the array's bytes (NumpyArrayWrapper, joblib ≥ 0.10) or which names a side file
 * (NDArrayWrapper / ZNDArrayWrapper, joblib < 0.10). Each wrapper here becomes the array itself when
 * its BUILD runs (docs/FORMATS.md §5).
 */
import { defineFamily } from '../family.js';
import { SET_STATE, handlerTable, type DecodeContext, type SetStateable } from '../unpickle/registry.js';
import { PyGlobal, Tuple, isPlainObject } from '../python/values.js';
import {
  NDArray,
  checkShape,
  isDType,
  lazyNDArray,
  ndarrayFromBuffer,
  readNpy,
  type DType,
} from '../numpy/index.js';
import { readOwn } from '../bytes/source.js';
import { readZFile } from './compress.js';

const MODULE = 'joblib.numpy_pickle';

/** Entries of a state dict in either mode (Map in lossless mode, plain object otherwise). Keys may be bytes in Python 2 pickles. */
function stateEntries(state: unknown, what: string, ctx: DecodeContext): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const add = (k: unknown, v: unknown): void => {
    if (typeof k === 'string') out.set(k, v);
    else if (k instanceof Uint8Array) out.set(String.fromCharCode(...k), v);
  };
  if (state instanceof Map) for (const [k, v] of state) add(k, v);
  else if (isPlainObject(state)) for (const k of Object.keys(state)) add(k, state[k]);
  else if (
    state instanceof Tuple &&
    state.length === 2 &&
    (state[0] === null || state[0] instanceof Map || isPlainObject(state[0]))
  ) {
    // (dict, slots) form: only the dict part is meaningful for these classes.
    return stateEntries(state[0] ?? new Map(), what, ctx);
  } else throw ctx.error(`${what} state must be a dict`);
  return out;
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return String.fromCharCode(...v);
  return undefined;
}

/** A non-negative safe integer from a decoded int (number or bigint). */
function dim(v: unknown, what: string, ctx: DecodeContext): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'bigint' ? (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw ctx.error(
      `${what}: expected a non-negative integer, got ${typeof v === 'bigint' ? v.toString() : String(v)}`,
    );
  }
  return n;
}

function shapeOf(v: unknown, ctx: DecodeContext): number[] {
  if (!Array.isArray(v)) throw ctx.error('joblib array wrapper: shape must be a tuple of ints');
  return v.map((x) => dim(x, 'joblib array wrapper shape', ctx));
}

/** Payload size in bytes, after numpy's own shape checks (dimension count, overflow). */
function payloadBytes(shape: readonly number[], dtype: DType, ctx: DecodeContext): number {
  return checkShape(shape, dtype.itemsize, ctx) * dtype.itemsize;
}

/** The subclass to rebuild: memmap becomes a plain ndarray (as joblib does when not memory-mapping). */
function subclassName(v: unknown): string | undefined {
  if (v instanceof PyGlobal) {
    const name = v.qualifiedName;
    if (name === 'numpy.ndarray' || name === 'numpy.core.memmap.memmap' || name === 'numpy.memmap')
      return undefined;
    return name;
  }
  const t = asText(v);
  if (t !== undefined && t !== 'numpy.ndarray' && !t.endsWith('memmap')) return t;
  return undefined;
}

function needDType(v: unknown, ctx: DecodeContext): DType {
  if (!isDType(v)) throw ctx.error('joblib array wrapper: dtype missing or not a numpy dtype');
  return v;
}

/** `NumpyArrayWrapper` (joblib ≥ 0.10): the payload follows the wrapper's BUILD in the stream. */
class NumpyArrayWrapper implements SetStateable {
  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    const s = stateEntries(state, 'NumpyArrayWrapper', ctx);
    const dtype = needDType(s.get('dtype'), ctx);
    const shape = shapeOf(s.get('shape'), ctx);
    const orderRaw = asText(s.get('order') ?? 'C');
    if (orderRaw !== 'C' && orderRaw !== 'F')
      throw ctx.error(`NumpyArrayWrapper: order must be 'C' or 'F', got ${String(orderRaw)}`);
    const subclass = subclassName(s.get('subclass'));
    if (dtype.hasObject) {
      // A complete nested pickle of the array (its own PROTO ... STOP), no padding.
      return ctx.loadNested();
    }
    const align = s.get('numpy_array_alignment_bytes');
    if (align !== undefined && align !== null) {
      const p = ctx.readRaw(1)[0] as number;
      if (p > 0) ctx.readRaw(p);
    }
    const nbytes = payloadBytes(shape, dtype, ctx);
    // Lazy mode (joblib's mmap_mode): the bytes stay in the file until the array is first used.
    const lazy = ctx.readRawLazy?.(nbytes);
    if (lazy !== undefined) {
      const shared = ctx.sharedMemory === true;
      return lazyNDArray(
        dtype,
        shape,
        orderRaw,
        nbytes,
        () => readOwn(lazy.source, lazy.offset, lazy.length, shared),
        subclass,
        ctx,
      );
    }
    const raw = ctx.readRaw(nbytes);
    return ndarrayFromBuffer(dtype, shape, orderRaw, raw, subclass);
  }
}

/** A sibling file name, refused unless it is a plain name in the same folder. */
function siblingName(v: unknown, ctx: DecodeContext): string {
  const name = asText(v);
  if (name === undefined || name === '') throw ctx.error('joblib array wrapper: filename missing');
  if (/[\\/]/.test(name) || name === '.' || name === '..' || name.includes('\0')) {
    throw ctx.error(
      `joblib array wrapper: refusing side-file name ${JSON.stringify(name)} (only plain names in the same folder are read)`,
    );
  }
  return name;
}

function readSiblingFile(name: string, ctx: DecodeContext): Uint8Array {
  if (!ctx.readSibling) {
    throw ctx.error(
      `this old-format joblib file keeps an array in the side file ${JSON.stringify(name)}; read it with load(path) so side files can be found`,
    );
  }
  const data = ctx.readSibling(name);
  if (data === undefined) throw ctx.error(`missing joblib side file ${JSON.stringify(name)}`);
  return data;
}

/** A side file that could not be read, named once (one that names side files again fails at the nesting limit). */
function sideFileError(name: string, e: unknown, ctx: DecodeContext): Error {
  const message = (e as Error).message;
  if (message.startsWith('cannot read joblib side file')) return e as Error;
  return ctx.error(`cannot read joblib side file ${JSON.stringify(name)}: ${message}`);
}

/** `NDArrayWrapper` (joblib < 0.10, uncompressed): the array is a sibling `.npy` file. */
class NDArrayWrapper implements SetStateable {
  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    const s = stateEntries(state, 'NDArrayWrapper', ctx);
    const name = siblingName(s.get('filename'), ctx);
    const subclass = subclassName(s.get('subclass'));
    const data = readSiblingFile(name, ctx);
    let arr: unknown;
    try {
      // Object arrays (joblib 0.9 wrote them with np.save too) hold a pickle of the array after the
      // .npy header; np.load unpickles it, and so do we (same options, nothing executed).
      arr = readNpy(data, (body) => {
        if (!ctx.loadBytes)
          throw ctx.error('object arrays in joblib side files need a decoder that can read nested pickles');
        return ctx.loadBytes(body);
      });
    } catch (e) {
      throw sideFileError(name, e, ctx);
    }
    // np.load gives a plain array; joblib then re-wraps it in the recorded subclass (numpy.matrix).
    if (subclass !== undefined && arr instanceof NDArray) arr.subclass = subclass;
    return arr;
  }
}

/** `ZNDArrayWrapper` (joblib < 0.10, compressed): raw array bytes in a sibling z-file. */
class ZNDArrayWrapper implements SetStateable {
  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    const s = stateEntries(state, 'ZNDArrayWrapper', ctx);
    const name = siblingName(s.get('filename'), ctx);
    const st = s.get('state');
    if (!Array.isArray(st) || (st.length !== 3 && st.length !== 4)) {
      throw ctx.error('ZNDArrayWrapper: state must be (version, shape, dtype, is_fortran)');
    }
    const [shapeV, dtypeV, fortranV] = st.length === 4 ? st.slice(1) : st;
    const dtype = needDType(dtypeV, ctx);
    const shape = shapeOf(shapeV, ctx);
    if (dtype.hasObject) throw ctx.error('ZNDArrayWrapper: object arrays are not stored in side files');
    const init = s.get('init_args');
    const subclass = Array.isArray(init) && init.length > 0 ? subclassName(init[0]) : undefined;
    const nbytes = payloadBytes(shape, dtype, ctx);
    // The declared array size caps the inflation below; limits.maxInputBytes caps that size.
    const cap = ctx.limits?.maxInputBytes;
    if (cap !== undefined && nbytes > cap) {
      throw ctx.error(
        `joblib side file ${JSON.stringify(name)}: the array needs ${nbytes} bytes, more than limits.maxInputBytes (${cap}); raise it to allow more`,
      );
    }
    const file = readSiblingFile(name, ctx);
    let raw: Uint8Array;
    try {
      raw = readZFile(file, nbytes); // the declared array size caps the inflation
    } catch (e) {
      throw sideFileError(name, e, ctx);
    }
    if (raw.length !== nbytes) {
      throw ctx.error(
        `joblib side file ${JSON.stringify(name)} holds ${raw.length} bytes, the array needs ${nbytes}`,
      );
    }
    return ndarrayFromBuffer(
      dtype,
      shape,
      fortranV === true || fortranV === 1 || fortranV === 1n ? 'F' : 'C',
      raw,
      subclass,
    );
  }
}

/** Handlers for joblib's wrapper classes (construct for NEWOBJ, call for REDUCE/INST/OBJ). */
const JOBLIB_GLOBALS = handlerTable((register) => {
  const make = <T>(C: new () => T) => ({
    construct: (): T => new C(),
    call: (): T => new C(),
  });
  // Where each class has lived: joblib itself; the copy scikit-learn vendored before 0.23
  // (`sklearn.externals.joblib`, what `from sklearn.externals import joblib; joblib.dump(...)` wrote);
  // and joblib >= 0.10's compat module for the pre-0.10 wrappers.
  for (const module of [MODULE, `sklearn.externals.${MODULE}`]) {
    register(`${module}.NumpyArrayWrapper`, make(NumpyArrayWrapper));
    register(`${module}.NDArrayWrapper`, make(NDArrayWrapper));
    register(`${module}.ZNDArrayWrapper`, make(ZNDArrayWrapper));
  }
  for (const module of ['joblib.numpy_pickle_compat', 'sklearn.externals.joblib.numpy_pickle_compat']) {
    register(`${module}.NDArrayWrapper`, make(NDArrayWrapper));
    register(`${module}.ZNDArrayWrapper`, make(ZNDArrayWrapper));
  }
});

/**
 * The joblib family: the array wrappers of every joblib era (and of scikit-learn's vendored copy),
 * which BUILD replaces by the array whose bytes follow in the stream or sit in a side file. joblib
 * files are written by src/joblib/write.ts (arrays go through the numpy family's values).
 */
export const JOBLIB_FAMILY = defineFamily({ name: 'joblib', globals: JOBLIB_GLOBALS });
