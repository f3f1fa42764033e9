/**
 * Writing numpy values the way numpy 1.x pickles them (docs/FORMATS.md §4), so that numpy 1.x and 2.x
 * both load them:
 * - arrays: `numpy.core.multiarray._reconstruct(cls, (0,), b'b')` + BUILD `(1, shape, dtype,
 *   is_fortran, rawdata)` (a list of the elements for object dtypes); at protocol 5, plain ndarrays of
 *   non-object dtypes with itemsize > 0 are `numpy.core.numeric._frombuffer(PickleBuffer, dtype,
 *   shape, order)` instead, in band or out of band as the writer's buffer callback decides
 * - masked arrays: `numpy.ma.core._mareconstruct(cls, baseclass, (0,), 'b')` + the 7-tuple state
 * - dtypes: `numpy.dtype(typestr, False, True)` + BUILD with numpy 1.x's state tuple (flags as a
 *   signed char, datetime units in a version-4 state)
 * - scalars: `numpy.core.multiarray.scalar(dtype, element_bytes)`
 * - (opt-in, `typedArrayReducer`) JS TypedArrays other than Uint8Array: 1-D arrays of their dtype
 */
import { PickleBuffer, PyGlobal, Tuple } from '../python/values.js';
import { PyName, type Reducer, type Reduction } from '../pickle/reducers.js';
import { DType } from './dtype.js';
import { MaskedArray, NDArray, NumpyScalar, maskDType } from './ndarray.js';

const G_DTYPE = new PyGlobal('numpy', 'dtype');
const G_NDARRAY = new PyGlobal('numpy', 'ndarray');
const G_RECONSTRUCT = new PyGlobal('numpy.core.multiarray', '_reconstruct');
const G_FROMBUFFER = new PyGlobal('numpy.core.numeric', '_frombuffer');
const G_SCALAR = new PyGlobal('numpy.core.multiarray', 'scalar');
const G_MARECONSTRUCT = new PyGlobal('numpy.ma.core', '_mareconstruct');
/** numpy's dummy typecode argument of `_reconstruct`. */
const TYPECODE = new Uint8Array([0x62]);

/** `module.name` → PyGlobal (the class name is the part after the last dot). */
function globalOf(qualified: string): PyGlobal {
  const dot = qualified.lastIndexOf('.');
  return dot < 0
    ? new PyGlobal('builtins', qualified)
    : new PyGlobal(qualified.slice(0, dot), qualified.slice(dot + 1));
}

/** A new view on the same memory: CPython writes a fresh `bytes` per array, never a memo reference. */
function freshBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

function shapeTuple(shape: readonly number[]): Tuple {
  return Tuple.from_(shape.map((d) => BigInt(d)));
}

/** The first argument of `numpy.dtype(...)` in numpy 1.x pickles. */
function typestrArg(dt: DType): string | PyGlobal {
  switch (dt.kind) {
    case 'V':
      return dt.scalarType !== null ? globalOf(dt.scalarType) : `V${dt.itemsize}`;
    case 'M':
    case 'm':
      return `${dt.kind}8`;
    case 'U':
      return `U${dt.itemsize / 4}`;
    default:
      return `${dt.kind}${dt.itemsize}`;
  }
}

function signedChar(flags: number): bigint {
  const f = flags & 0xff;
  return BigInt(f >= 0x80 ? f - 0x100 : f);
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

/** `numpy.dtype(typestr, False, True)` + numpy 1.x's BUILD state. */
function dtypeReduction(dt: DType): Reduction {
  const flexible = dt.kind === 'S' || dt.kind === 'U' || dt.kind === 'V';
  const datetime = dt.kind === 'M' || dt.kind === 'm';
  let subarray: Tuple | null = null;
  if (dt.subarray) subarray = Tuple.from_([dt.subarray.base, shapeTuple(dt.subarray.shape)]);
  let names: Tuple | null = null;
  let fields: Map<unknown, Tuple> | null = null;
  if (dt.names !== null && dt.fields) {
    // Field names are shared str objects in numpy (the names tuple and the fields dict hold the
    // same ones); a title key maps to the very tuple of its field.
    names = Tuple.from_(dt.names.map((n) => new PyName(n)));
    fields = new Map();
    for (const n of dt.names) {
      const f = dt.fields.get(n)!;
      const hasTitle = f.title !== null && f.title !== undefined;
      const title = typeof f.title === 'string' ? new PyName(f.title) : f.title;
      const info = Tuple.from_(hasTitle ? [f.dtype, BigInt(f.offset), title] : [f.dtype, BigInt(f.offset)]);
      fields.set(new PyName(n), info);
      if (hasTitle) fields.set(title, info);
    }
  }
  const state: unknown[] = [
    datetime || dt.metadata !== null ? 4n : 3n,
    dt.byteorder,
    subarray,
    names,
    fields,
    flexible ? BigInt(dt.itemsize) : -1n,
    flexible ? BigInt(dt.alignment) : -1n,
    signedChar(dt.flags),
  ];
  if (datetime) {
    const md = dt.metadata ?? new Map();
    state.push(Tuple.from_([md, Tuple.from_([ascii(dt.unit ?? 'generic'), BigInt(dt.count), 1n, 1n])]));
  } else if (dt.metadata !== null) {
    state.push(dt.metadata);
  }
  return {
    callable: G_DTYPE,
    kind: 'reduce',
    args: [typestrArg(dt), false, true],
    state: Tuple.from_(state),
  };
}

/**
 * numpy arrays export a buffer (and so pickle through `_frombuffer` at protocol 5) unless their
 * dtype involves datetimes, which the buffer protocol cannot describe; numpy then falls back to
 * `_reconstruct`.
 */
function exportsBuffer(dt: DType): boolean {
  if (dt.kind === 'M' || dt.kind === 'm') return false;
  if (dt.subarray) return exportsBuffer(dt.subarray.base);
  if (dt.fields) for (const f of dt.fields.values()) if (!exportsBuffer(f.dtype)) return false;
  return true;
}

/** numpy's is_fortran: F-contiguous and not C-contiguous. */
function isFortranOnly(a: NDArray): boolean {
  if (a.order !== 'F' || a.size === 0) return false;
  let nontrivial = 0;
  for (const d of a.shape) if (d > 1) nontrivial++;
  return nontrivial > 1;
}

/** The `rawdata` item: element bytes (fresh) or, for object dtypes, a fresh list of the elements. */
function rawdata(a: NDArray): unknown {
  if (a.objects) return [...a.objects];
  return freshBytes(a.raw);
}

/** How numpy 1.x pickles `a` at `protocol`. */
function ndarrayReduction(a: NDArray, protocol: number): Reduction {
  const fortran = isFortranOnly(a);
  if (a instanceof MaskedArray) return maskedReduction(a, fortran);
  const dt = a.dtype;
  if (
    protocol >= 5 &&
    !dt.hasObject &&
    a.subclass === 'numpy.ndarray' &&
    dt.itemsize > 0 &&
    exportsBuffer(dt)
  ) {
    const buf = new PickleBuffer(freshBytes(a.raw), !a.writeable);
    return {
      callable: G_FROMBUFFER,
      kind: 'reduce',
      args: [buf, dt, shapeTuple(a.shape), fortran ? 'F' : 'C'],
    };
  }
  const cls = a.subclass === 'numpy.ndarray' ? G_NDARRAY : globalOf(a.subclass);
  return {
    callable: G_RECONSTRUCT,
    kind: 'reduce',
    args: [cls, Tuple.from_([0n]), TYPECODE],
    state: Tuple.from_([1n, shapeTuple(a.shape), dt, fortran, rawdata(a)]),
  };
}

function maskedReduction(a: MaskedArray, fortran: boolean): Reduction {
  let mask: Uint8Array;
  if (a.mask) {
    // The mask travels in the data's order.
    mask =
      fortran === isFortranOnly(a.mask) || a.mask.size <= 1 ? freshBytes(a.mask.raw) : fortranBytes(a.mask);
  } else {
    mask = new Uint8Array(a.size * maskDType(a.dtype).itemsize);
  }
  return {
    callable: G_MARECONSTRUCT,
    kind: 'reduce',
    args: [globalOf(a.subclass), globalOf(a.baseclass), Tuple.from_([0n]), 'b'],
    state: Tuple.from_([1n, shapeTuple(a.shape), a.dtype, fortran, rawdata(a), mask, a.fillValue]),
  };
}

/** C-ordered array bytes rearranged to Fortran order. */
function fortranBytes(a: NDArray): Uint8Array {
  const c = a.bytes();
  const s = a.dtype.itemsize;
  const out = new Uint8Array(c.length);
  const shape = a.shape;
  const nd = shape.length;
  const cStr = new Array<number>(nd);
  let acc = 1;
  for (let k = nd - 1; k >= 0; k--) {
    cStr[k] = acc;
    acc *= shape[k]!;
  }
  const idx = new Array<number>(nd).fill(0);
  for (let f = 0; f < a.size; f++) {
    let p = 0;
    for (let k = 0; k < nd; k++) p += idx[k]! * cStr[k]!;
    out.set(c.subarray(p * s, p * s + s), f * s);
    for (let k = 0; k < nd; k++) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** `numpy.core.multiarray.scalar(dtype, bytes)` (object scalars carry the object itself). */
function scalarReduction(s: NumpyScalar): Reduction {
  const data = s.dtype.kind === 'O' ? s.value : freshBytes(s.raw);
  return { callable: G_SCALAR, kind: 'reduce', args: [s.dtype, data] };
}

/** Reducer for NDArray and MaskedArray. */
const ndarrayReducer: Reducer = (value, ctx) =>
  value instanceof NDArray ? ndarrayReduction(value, ctx.protocol) : undefined;

/**
 * Opt-in reducer (pass it in `dumps(x, { reducers: [typedArrayReducer] })`) that writes JS numeric
 * TypedArrays other than Uint8Array (which is `bytes`) as 1-D numpy arrays of the matching dtype.
 * Not part of the default family: by default the writer refuses them rather than guess.
 */
export const typedArrayReducer: Reducer = (value, ctx) => {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8Array)) {
    return ndarrayReduction(NDArray.fromTypedArray(value as Float64Array), ctx.protocol);
  }
  return undefined;
};

const dtypeReducer: Reducer = (value) => (value instanceof DType ? dtypeReduction(value) : undefined);

const scalarReducer: Reducer = (value) => (value instanceof NumpyScalar ? scalarReduction(value) : undefined);

/** How the numpy family writes its values (arrays, masked arrays, dtypes, scalars). */
export const numpyReducer: Reducer = (value, ctx) =>
  ndarrayReducer(value, ctx) ?? dtypeReducer(value, ctx) ?? scalarReducer(value, ctx);
