/**
 * numpy `ndarray` as a JS object over the pickled bytes.
 *
 * What each dtype becomes in `NDArray.data` (storage order, see `order`/`strides`):
 * - `b1` (bool) → Uint8Array of 0/1 (`get`/`toNested`/`toArray` give booleans)
 * - `i1 i2 i4` → Int8Array/Int16Array/Int32Array; `u1 u2 u4` → Uint8Array/Uint16Array/Uint32Array
 * - `i8` → BigInt64Array, `u8` → BigUint64Array (elements are bigint)
 * - `f4` → Float32Array, `f8` → Float64Array
 * - `f2` (float16) → Float32Array, converted (exact: every half fits a float32)
 * - `f16`/`f12` (x87 long double) → Float64Array, converted (lossy: rounded to 53-bit mantissas)
 * - `c8` → Float32Array, `c16` → Float64Array, `c32` → Float64Array (converted): interleaved
 *   `re, im, re, im…` (length 2 × size); element access gives `Complex`
 * - `M8[unit]` / `m8[unit]` → BigInt64Array of counts of `dtype.count × dtype.unit` since the epoch
 *   (NaT = -2^63); the unit is on the dtype
 * - `U<n>` → string[] (trailing NULs stripped, as numpy does)
 * - `S<n>` → Uint8Array[] (trailing NULs stripped; views on the raw bytes)
 * - `V<n>` and structured → Uint8Array[] of each element's bytes; `field(name)`/`record(i)`/`get`
 *   decode fields (records are plain objects of field values)
 * - `O` (and structured dtypes containing objects) → unknown[] (the pickled list, C order)
 *
 * Zero-copy: a numeric `data` is a view on the decoded input when the bytes are native-endian and
 * their offset is aligned for the element size; otherwise it is a converted copy (byte-swapped for
 * `>` data). `raw` always holds the original bytes; writes to a view `data` reach `raw` (and the
 * input buffer), writes to a copy do not.
 */
import { UnpicklingError } from '../errors.js';
import { ByteArray, Complex, PickleBuffer, PyGlobal, Tuple, UNHASHABLE, setOwn } from '../python/values.js';
import { SET_STATE, type DecodeContext } from '../unpickle/registry.js';
import { DType, NATIVE_ORDER, isDType, isSingletonKind } from './dtype.js';
import {
  numericLayout,
  readElement,
  stripNuls,
  swapBytes,
  typedFromRaw,
  writeElement,
  decodeUcs4,
  type NumericLayout,
  type NumericTypedArray,
  type ReadOptions,
} from './elements.js';

/** Empty payload (object arrays, placeholders); shared because each new one is a new ArrayBuffer for the GC. */
export const NO_BYTES = new Uint8Array(0);

export type { NumericTypedArray } from './elements.js';

/** What `NDArray.data` holds (see the module comment for the mapping from dtypes). */
export type NDArrayData = NumericTypedArray | string[] | Uint8Array[] | unknown[];

export type ArrayOrder = 'C' | 'F';

/** Most dimensions accepted (numpy 2 allows 64). */
const MAX_DIMS = 64;
/** `toNested` refuses to build more nested JS arrays than this (shapes like (10^12, 0) are legal but hostile). */
const MAX_NESTED_CONTAINERS = 2 ** 27;

/** Thrown for bad shapes/lengths; callers with a DecodeContext convert it to ctx.error. */
function err(message: string, ctx?: DecodeContext): Error {
  return ctx ? ctx.error(message) : new UnpicklingError(message);
}

/** Validate a shape: non-negative safe integers, at most 64 dims, element count and byte size safe. */
export function checkShape(shape: readonly number[], itemsize: number, ctx?: DecodeContext): number {
  if (shape.length > MAX_DIMS) throw err(`array has ${shape.length} dimensions (at most ${MAX_DIMS})`, ctx);
  let size = 1;
  let nonzero = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw err(`invalid array dimension ${String(d)}`, ctx);
    size *= d;
    if (d !== 0) {
      nonzero *= d;
      if (nonzero > Number.MAX_SAFE_INTEGER) throw err('array shape is too large', ctx);
    }
  }
  if (nonzero * Math.max(itemsize, 1) > Number.MAX_SAFE_INTEGER)
    throw err('array byte size is too large', ctx);
  return size;
}

/**
 * Bytes an array of `dtype` and `shape` occupies (size × itemsize), with the shape checked; throws
 * an UnpicklingError for negative, non-integer or overflowing shapes. Object dtypes have no byte size.
 */
export function arrayByteLength(dtype: DType, shape: readonly number[]): number {
  const { dtype: dt, shape: sh } = expandSubarray(dtype, shape);
  return checkShape(sh, dt.itemsize) * dt.itemsize;
}

/** numpy folds a top-level sub-array dtype into the shape: `(n,)` of `('<f4', (2,))` is `(n, 2)` of `<f4`. */
function expandSubarray(dtype: DType, shape: readonly number[]): { dtype: DType; shape: number[] } {
  let dt = dtype;
  if (!dt.subarray) return { dtype: dt, shape: shape.slice() };
  const sh = [...shape];
  while (dt.subarray) {
    sh.push(...dt.subarray.shape);
    dt = dt.subarray.base;
  }
  return { dtype: dt, shape: sh };
}

function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

function fStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = 0; i < shape.length; i++) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

/** Call `fn(storageIndex, cIndex)` for every element in C (row-major) order. */
function forEachC(
  shape: readonly number[],
  strides: readonly number[],
  fn: (p: number, i: number) => void,
): void {
  const nd = shape.length;
  let size = 1;
  for (const d of shape) size *= d;
  if (size === 0) return;
  const idx = new Array<number>(nd).fill(0);
  let p = 0;
  for (let i = 0; i < size; i++) {
    fn(p, i);
    for (let k = nd - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      p += strides[k] as number;
      if ((idx[k] as number) < (shape[k] as number)) break;
      p -= (strides[k] as number) * (shape[k] as number);
      idx[k] = 0;
    }
  }
}

/** Bytes of a Python `bytes`/`bytearray`/buffer, or of a latin-1 `str` (Python 2 pickles, encoding='latin1'). */
function bytesOf(v: unknown, what: string, ctx?: DecodeContext): Uint8Array {
  if (v instanceof PickleBuffer) return v.data;
  if (v instanceof ByteArray) return new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff) throw err(`${what}: str data has a character above U+00FF`, ctx);
      out[i] = c;
    }
    return out;
  }
  throw err(`${what} must be bytes`, ctx);
}

/** Fields of an NDArray's content, as set by constructors and BUILD. */
interface ArrayContent {
  dtype: DType;
  shape: number[];
  order: ArrayOrder;
  raw: Uint8Array;
  objects: unknown[] | null;
}

/** The dtype of each TypedArray class (native byte order). */
const TYPED_DTYPES = new Map<unknown, string>([
  [Int8Array, '|i1'],
  [Uint8Array, '|u1'],
  [Uint8ClampedArray, '|u1'],
  [Int16Array, `${NATIVE_ORDER}i2`],
  [Uint16Array, `${NATIVE_ORDER}u2`],
  [Int32Array, `${NATIVE_ORDER}i4`],
  [Uint32Array, `${NATIVE_ORDER}u4`],
  [BigInt64Array, `${NATIVE_ORDER}i8`],
  [BigUint64Array, `${NATIVE_ORDER}u8`],
  [Float32Array, `${NATIVE_ORDER}f4`],
  [Float64Array, `${NATIVE_ORDER}f8`],
]);

/** Module-private: replace an array's content in place (BUILD keeps the memoized object). */
const ASSIGN: unique symbol = Symbol('assign');

/** Everything needed to build an NDArray. */
export interface NDArrayInit {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Storage order of `raw` (default 'C'). Object arrays keep `objects` in C order regardless. */
  readonly order?: ArrayOrder;
  /** Element bytes in storage order and the dtype's byte order (non-object dtypes). */
  readonly raw?: Uint8Array;
  /** Elements in C order (object dtypes). */
  readonly objects?: unknown[];
  /** The Python class (`numpy.ndarray`, `numpy.matrix`, …). */
  readonly subclass?: string;
}

/** Validate an init and normalise it (sub-array dtypes folded into the shape). */
function buildContent(init: NDArrayInit, ctx?: DecodeContext): ArrayContent {
  const { dtype, shape } = expandSubarray(init.dtype, init.shape);
  const order = init.order ?? 'C';
  if (order !== 'C' && order !== 'F') throw err(`invalid array order ${JSON.stringify(order)}`, ctx);
  const size = checkShape(shape, dtype.itemsize, ctx);
  if (dtype.hasObject) {
    const objects = init.objects;
    if (!Array.isArray(objects)) throw err('object arrays need a list of elements', ctx);
    if (objects.length !== size)
      throw err(`object array has ${objects.length} elements, shape needs ${size}`, ctx);
    return { dtype, shape, order, raw: NO_BYTES, objects };
  }
  const raw = init.raw;
  if (!(raw instanceof Uint8Array)) throw err('array data must be bytes', ctx);
  const need = size * dtype.itemsize;
  if (raw.length !== need) {
    throw err(
      `array data has ${raw.length} bytes, shape ${JSON.stringify(shape)} of ${dtype.str} needs ${need}`,
      ctx,
    );
  }
  return { dtype, shape, order, raw, objects: null };
}

/** A numpy array. See the module comment for what each dtype's `data` is. */
export class NDArray {
  /** numpy arrays cannot be dict keys or set members (`unhashable type: 'numpy.ndarray'`). */
  declare readonly [UNHASHABLE]: true;
  dtype: DType;
  shape: number[];
  /** Storage order of `raw`/`data`: 'F' when numpy pickled the array Fortran-ordered. */
  order: ArrayOrder;
  /** The Python class, `module.name` (`numpy.ndarray`, `numpy.matrix`, `numpy.ma.core.MaskedArray`, …). */
  subclass: string;
  /** The element bytes in storage order and the dtype's byte order (empty for object arrays). */
  raw: Uint8Array;
  /** Elements of object arrays (C order), else null. */
  objects: unknown[] | null;
  /**
   * False when the array came from a read-only buffer (protocol 5 `bytes`/read-only out-of-band
   * buffers), as numpy marks it; the writer then pickles the buffer read-only again.
   */
  writeable = true;
  // A private field, not a defineProperty'd one: defineProperty per instance made small arrays slow to
  // build (numpy family: 20k small arrays decode).
  #cache: { data?: NDArrayData; view?: DataView; layout?: NumericLayout | null } = {};

  /** Without arguments: what `_reconstruct` makes before BUILD (an empty int8 array of shape (0,)). */
  constructor(init?: NDArrayInit) {
    const c = init
      ? buildContent(init)
      : { dtype: new DType('i', 1), shape: [0], order: 'C' as const, raw: NO_BYTES, objects: null };
    this.dtype = c.dtype;
    this.shape = c.shape;
    this.order = c.order;
    this.raw = c.raw;
    this.objects = c.objects;
    this.subclass = init?.subclass ?? 'numpy.ndarray';
  }

  /**
   * A 1-D (or `shape`d) array over a TypedArray's memory (no copy): Float64Array → `<f8`,
   * Int32Array → `<i4`, BigInt64Array → `<i8`, Uint8Array → `|u1`, … (native byte order).
   * `order` says how `data` is laid out when `shape` has several dimensions.
   */
  static fromTypedArray(
    data: NumericTypedArray | Uint8ClampedArray,
    shape?: readonly number[],
    order: ArrayOrder = 'C',
  ): NDArray {
    const typestr = TYPED_DTYPES.get(data.constructor);
    if (typestr === undefined) throw new TypeError('unsupported TypedArray');
    const raw = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return new NDArray({ dtype: DType.builtin(typestr), shape: shape ?? [data.length], order, raw });
  }

  /**
   * An array of `dtype` from element values in C order (see `writeElement` for what each kind
   * accepts; object dtypes keep the values as they are). `shape` defaults to `[values.length]`.
   */
  static fromValues(dtype: DType | string, values: readonly unknown[], shape?: readonly number[]): NDArray {
    const dt = typeof dtype === 'string' ? DType.builtin(dtype) : dtype;
    const sh = shape ?? [values.length];
    const size = checkShape(sh, dt.itemsize);
    if (size !== values.length) throw new RangeError(`${values.length} values for shape (${sh.join(', ')})`);
    if (dt.hasObject) return new NDArray({ dtype: dt, shape: sh, objects: [...values] });
    const raw = new Uint8Array(size * dt.itemsize);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < size; i++) writeElement(dt, values[i], raw, view, i * dt.itemsize);
    return new NDArray({ dtype: dt, shape: sh, raw });
  }

  /** An array from nested JS arrays (rectangular), e.g. `fromNested([[1, 2], [3, 4]], '<i8')`. */
  static fromNested(nested: unknown, dtype: DType | string): NDArray {
    const dt = typeof dtype === 'string' ? DType.builtin(dtype) : dtype;
    const shape: number[] = [];
    let probe: unknown = nested;
    // Sub-array dtypes take nested arrays per element: stop descending where the element starts.
    const elementDims = dt.subarray ? dt.subarray.shape.length : 0;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    shape.length = Math.max(0, shape.length - elementDims);
    const flat: unknown[] = [];
    const walk = (v: unknown, dim: number): void => {
      if (dim === shape.length) {
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[dim])
        throw new RangeError('nested arrays are not rectangular');
      for (const x of v) walk(x, dim + 1);
    };
    walk(nested, 0);
    return NDArray.fromValues(dt, flat, shape);
  }

  /** Replace the content (BUILD); keeps identity, which the pickle memo relies on. */
  /** @internal */
  [ASSIGN](c: ArrayContent): void {
    this.dtype = c.dtype;
    this.shape = c.shape;
    this.order = c.order;
    this.raw = c.raw;
    this.objects = c.objects;
    this.#cache = {};
  }

  /** Number of elements. */
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get itemsize(): number {
    return this.dtype.itemsize;
  }

  /** Bytes of element data (size × itemsize). */
  get nbytes(): number {
    return this.size * this.dtype.itemsize;
  }

  /**
   * Steps between neighbours along each axis, in elements of `data` (C or F layout per `order`;
   * object arrays are always C). For complex dtypes multiply by 2 to index the interleaved TypedArray.
   */
  get strides(): number[] {
    return this.order === 'F' && this.objects === null ? fStrides(this.shape) : cStrides(this.shape);
  }

  /** The elements in storage order (see the module comment). Built on first access. */
  get data(): NDArrayData {
    const cached = this.#cache.data;
    if (cached) return cached;
    let d: NDArrayData;
    if (this.objects) d = this.objects;
    else {
      const layout = numericLayout(this.dtype);
      const n = this.size;
      if (layout) d = typedFromRaw(this.dtype, layout, this.raw, n);
      else if (this.dtype.kind === 'U') {
        const view = this.view();
        const out: string[] = new Array(n);
        const little = this.dtype.byteorder !== '>';
        for (let i = 0; i < n; i++)
          out[i] = decodeUcs4(view, i * this.dtype.itemsize, this.dtype.itemsize, little);
        d = out;
      } else if (this.dtype.kind === 'S') {
        const out: Uint8Array[] = new Array(n);
        for (let i = 0; i < n; i++)
          out[i] = stripNuls(this.raw, i * this.dtype.itemsize, this.dtype.itemsize);
        d = out;
      } else {
        const out: Uint8Array[] = new Array(n);
        const s = this.dtype.itemsize;
        for (let i = 0; i < n; i++) out[i] = this.raw.subarray(i * s, i * s + s);
        d = out;
      }
    }
    this.#cache.data = d;
    return d;
  }

  private view(): DataView {
    return (this.#cache.view ??= new DataView(this.raw.buffer, this.raw.byteOffset, this.raw.byteLength));
  }

  /** Element at storage position `p` of `data`. */
  private elementAt(p: number, opts?: ReadOptions): unknown {
    const dt = this.dtype;
    if (this.objects) {
      const v = this.objects[p];
      if (dt.names !== null && Array.isArray(v)) return recordFromTuple(dt, v);
      return v;
    }
    let layout = this.#cache.layout;
    if (layout === undefined) layout = this.#cache.layout = numericLayout(dt) ?? null;
    if (layout) {
      const data = this.data as NumericTypedArray;
      if (dt.kind === 'b') return data[p] !== 0;
      if (layout.components === 2) return new Complex(data[2 * p] as number, data[2 * p + 1] as number);
      return data[p];
    }
    if (dt.kind === 'U' || dt.kind === 'S' || (dt.kind === 'V' && dt.names === null))
      return (this.data as unknown[])[p];
    return readElement(dt, this.raw, this.view(), p * dt.itemsize, opts);
  }

  /**
   * One element by index (one index per dimension; negative indices count from the end; a 0-d array
   * takes none). Indexing is logical (C-order semantics) whatever the storage order.
   */
  get(...index: number[]): unknown {
    if (index.length !== this.shape.length) {
      throw new RangeError(`expected ${this.shape.length} indices, got ${index.length}`);
    }
    const strides = this.strides;
    let p = 0;
    for (let k = 0; k < index.length; k++) {
      const len = this.shape[k] as number;
      let i = index[k] as number;
      if (!Number.isInteger(i)) throw new RangeError(`index ${String(i)} is not an integer`);
      if (i < 0) i += len;
      if (i < 0 || i >= len)
        throw new RangeError(`index ${index[k]} is out of bounds for axis ${k} with size ${len}`);
      p += i * (strides[k] as number);
    }
    return this.elementAt(p);
  }

  /** The elements as nested JS arrays (a 0-d array gives its element). Element values as `get` returns them. */
  toNested(): unknown {
    const shape = this.shape;
    let containers = 1;
    let prefix = 1;
    for (let k = 0; k < shape.length - 1; k++) {
      prefix *= shape[k] as number;
      containers += prefix;
      if (containers > MAX_NESTED_CONTAINERS)
        throw new RangeError('array shape needs too many nested arrays');
    }
    if (shape.length === 0) return this.elementAt(0);
    const strides = this.strides;
    const build = (dim: number, base: number): unknown[] => {
      const len = shape[dim] as number;
      const st = strides[dim] as number;
      const out = new Array<unknown>(len);
      if (dim === shape.length - 1) for (let i = 0; i < len; i++) out[i] = this.elementAt(base + i * st);
      else for (let i = 0; i < len; i++) out[i] = build(dim + 1, base + i * st);
      return out;
    };
    return build(0, 0);
  }

  /** Every element, flat, in C (row-major) order; values as `get` returns them. */
  toArray(): unknown[] {
    const out = new Array<unknown>(this.size);
    forEachC(this.shape, this.strides, (p, i) => {
      out[i] = this.elementAt(p);
    });
    return out;
  }

  /** Numeric data in C order: `data` itself when already C-ordered, else a reordered copy. */
  toTypedArray(): NumericTypedArray {
    const layout = numericLayout(this.dtype);
    if (!layout || this.objects) throw new TypeError(`dtype ${this.dtype.str} has no TypedArray form`);
    const data = this.data as NumericTypedArray;
    if (!this.needsReorder()) return data;
    const comps = layout.components;
    const out = new (data.constructor as new (n: number) => NumericTypedArray)(data.length);
    forEachC(this.shape, this.strides, (p, i) => {
      for (let c = 0; c < comps; c++)
        (out as unknown as unknown[])[i * comps + c] = (data as unknown as unknown[])[p * comps + c];
    });
    return out;
  }

  /** True when storage order differs from C order for this shape. */
  private needsReorder(): boolean {
    if (this.order === 'C' || this.objects) return false;
    let nontrivial = 0;
    for (const d of this.shape) if (d > 1) nontrivial++;
    return nontrivial > 1;
  }

  /** The element bytes in C order and the dtype's byte order (`raw` itself when already C-ordered). */
  bytes(): Uint8Array {
    if (this.objects) throw new TypeError('object arrays have no raw bytes');
    if (!this.needsReorder()) return this.raw;
    const s = this.dtype.itemsize;
    const out = new Uint8Array(this.raw.length);
    forEachC(this.shape, fStrides(this.shape), (p, i) => {
      out.set(this.raw.subarray(p * s, p * s + s), i * s);
    });
    return out;
  }

  /** Field `name` of a structured array, as a new C-ordered array (sub-array fields add dimensions). */
  field(name: string): NDArray {
    const dt = this.dtype;
    const f = dt.fields?.get(name);
    if (!f) throw new RangeError(`no field ${JSON.stringify(name)} in ${dt.toString()}`);
    if (this.objects) {
      const k = (dt.names as string[]).indexOf(name);
      const values = this.objects.map((t) => (Array.isArray(t) ? t[k] : undefined));
      if (!f.dtype.hasObject) {
        throw new TypeError(
          'field() of a structured array with object fields supports only the object fields',
        );
      }
      return new NDArray({ dtype: f.dtype, shape: this.shape, objects: values, subclass: 'numpy.ndarray' });
    }
    const s = dt.itemsize;
    const fs = f.dtype.itemsize;
    const out = new Uint8Array(this.size * fs);
    forEachC(this.shape, this.strides, (p, i) => {
      out.set(this.raw.subarray(p * s + f.offset, p * s + f.offset + fs), i * fs);
    });
    return new NDArray({ dtype: f.dtype, shape: this.shape, order: 'C', raw: out });
  }

  /** Record `i` (flat C-order index) of a structured array as a plain object of field values. */
  record(i: number): Record<string, unknown> {
    if (this.dtype.names === null) throw new TypeError(`dtype ${this.dtype.str} is not structured`);
    const size = this.size;
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`record index ${i} out of range`);
    let p = i;
    if (this.needsReorder()) {
      // C index → storage (F) position.
      const strides = this.strides;
      let rest = i;
      p = 0;
      for (let k = this.shape.length - 1; k >= 0; k--) {
        const len = this.shape[k] as number;
        p += (rest % len) * (strides[k] as number);
        rest = Math.floor(rest / len);
      }
    }
    return this.elementAt(p) as Record<string, unknown>;
  }

  /**
   * This array with native-endian data: itself when already native (or structured/object), else a
   * byte-swapped copy with the dtype's order flipped (what numpy does when unpickling).
   */
  toNative(): NDArray {
    const c = toNativeContent({
      dtype: this.dtype,
      shape: this.shape,
      order: this.order,
      raw: this.raw,
      objects: this.objects,
    });
    if (c.raw === this.raw) return this;
    const a = new NDArray();
    a[ASSIGN](c);
    a.subclass = this.subclass;
    return a;
  }

  toString(): string {
    return `NDArray(${this.subclass === 'numpy.ndarray' ? '' : this.subclass + ', '}shape=(${this.shape.join(', ')}${this.shape.length === 1 ? ',' : ''}), dtype=${this.dtype.str})`;
  }

  /** BUILD with numpy's array state `(version, shape, dtype, is_fortran, rawdata)` (or the 4-tuple without version). */
  [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    this[ASSIGN](parseArrayState(state, ctx));
    return undefined;
  }
}

function recordFromTuple(dt: DType, t: readonly unknown[]): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  (dt.names as string[]).forEach((n, k) => setOwn(rec, n, t[k]));
  return rec;
}

function toDim(v: unknown, what: string, ctx: DecodeContext): number {
  const n = ctx.toInt(v);
  if (typeof n === 'bigint' || !Number.isSafeInteger(n))
    throw ctx.error(`${what} out of range: ${String(n)}`);
  if (n < 0) throw ctx.error(`negative dimensions are not allowed (${what} ${n})`);
  return n;
}

function parseShape(v: unknown, ctx: DecodeContext): number[] {
  if (!Array.isArray(v)) {
    if (typeof v === 'number' || typeof v === 'bigint') return [toDim(v, 'array dimension', ctx)];
    throw ctx.error('array shape must be a tuple of ints');
  }
  if (v.length > MAX_DIMS) throw ctx.error(`array has ${v.length} dimensions (at most ${MAX_DIMS})`);
  // A loop, not v.map: map on a Tuple goes through Symbol.species (V8's slow path).
  const dims = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) dims[i] = toDim(v[i], 'array dimension', ctx);
  return dims;
}

function truthy(v: unknown, ctx: DecodeContext): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  if (v === null) return false;
  throw ctx.error('is_fortran must be a bool');
}

/** Parse `(version, shape, dtype, is_fortran, rawdata)` or the older `(shape, dtype, is_fortran, rawdata)`. */
function parseArrayState(state: unknown, ctx: DecodeContext): ArrayContent {
  if (!(state instanceof Tuple)) throw ctx.error('numpy array state must be a tuple');
  // Indexing, not slice/spread of the Tuple (species lookups; bench: many small arrays).
  let at: number;
  if (state.length === 5) {
    const version = ctx.toInt(state[0]);
    if (version !== 0 && version !== 1)
      throw ctx.error(`can't handle version ${String(version)} of numpy.ndarray pickle`);
    at = 1;
  } else if (state.length === 4) {
    at = 0;
  } else {
    throw ctx.error(`numpy array state has ${state.length} items (expected 4 or 5)`);
  }
  const shapeV = state[at];
  const dtypeV = state[at + 1];
  const fortranV = state[at + 2];
  const rawV = state[at + 3];
  if (!isDType(dtypeV)) throw ctx.error('numpy array state: the dtype is not a numpy.dtype');
  const shape = parseShape(shapeV, ctx);
  const order: ArrayOrder = truthy(fortranV, ctx) ? 'F' : 'C';
  return toNativeContent(contentFrom(dtypeV, shape, order, rawV, ctx));
}

/**
 * numpy's ndarray `__setstate__` byte-swaps non-native data on load and gives the array a native
 * dtype (structured dtypes, whose own order is `|`, are kept as they are); `_frombuffer` and `.npy`
 * loading keep the stored order.
 */
function toNativeContent(c: ArrayContent): ArrayContent {
  if (c.objects || c.dtype.isNativeOrder || c.dtype.names !== null) return c;
  let size = 1;
  for (const d of c.shape) size *= d;
  return { ...c, dtype: nativeDType(c.dtype), raw: swapBytes(c.dtype, c.raw, size) };
}

/** `dt` in native byte order; builtin kinds become numpy's shared instance, as numpy does. */
function nativeDType(dt: DType): DType {
  const n = dt.withByteOrder(NATIVE_ORDER);
  return isSingletonKind(n) ? DType.builtin(n.str) : n;
}

function contentFrom(
  dtype: DType,
  shape: number[],
  order: ArrayOrder,
  rawV: unknown,
  ctx: DecodeContext,
): ArrayContent {
  const ex = expandSubarray(dtype, shape);
  if (ex.dtype.hasObject) {
    if (!Array.isArray(rawV)) throw ctx.error('numpy array state: object arrays need a list of elements');
    return buildContent({ dtype, shape, order, objects: rawV as unknown[] }, ctx);
  }
  if (Array.isArray(rawV))
    throw ctx.error(`numpy array state: list data for a non-object dtype ${dtype.str}`);
  const raw = bytesOf(rawV, 'numpy array data', ctx);
  return buildContent({ dtype, shape, order, raw }, ctx);
}

/**
 * numpy.ma masked arrays (`numpy.ma.core._mareconstruct` + BUILD with
 * `(version, shape, dtype, is_fortran, data, mask, fill_value)`): the array plus `mask` (a bool
 * array, or a structured bool array for structured dtypes) and `fillValue` (as pickled, usually a
 * 0-d NDArray, or null).
 */
export class MaskedArray extends NDArray {
  /** The mask as an array of the same shape (true = masked), or null before BUILD. */
  mask: NDArray | null = null;
  fillValue: unknown = null;
  /** The `baseclass` argument (`numpy.ndarray`). */
  baseclass = 'numpy.ndarray';

  constructor(init?: NDArrayInit) {
    super(init ? { ...init, subclass: init.subclass ?? 'numpy.ma.core.MaskedArray' } : undefined);
    if (!init) this.subclass = 'numpy.ma.core.MaskedArray';
  }

  override [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    if (!(state instanceof Tuple) || state.length !== 7)
      throw ctx.error('numpy masked array state must be a 7-tuple');
    const version = ctx.toInt(state[0]);
    if (version !== 1) throw ctx.error(`can't handle version ${String(version)} of a masked array pickle`);
    const [, shapeV, dtypeV, fortranV, dataV, maskV, fill] = state;
    if (!isDType(dtypeV)) throw ctx.error('masked array state: the dtype is not a numpy.dtype');
    const shape = parseShape(shapeV, ctx);
    const order: ArrayOrder = truthy(fortranV, ctx) ? 'F' : 'C';
    const content = toNativeContent(contentFrom(dtypeV, shape, order, dataV, ctx));
    const maskDt = maskDType(content.dtype);
    const mask = new NDArray({
      dtype: maskDt,
      shape: content.shape,
      order,
      raw: bytesOf(maskV, 'mask', ctx),
    });
    this[ASSIGN](content);
    this.mask = mask;
    this.fillValue = fill;
    return undefined;
  }
}

/** numpy.ma's mask dtype: bool, with the same field structure for structured dtypes. */
export function maskDType(dt: DType): DType {
  if (dt.subarray) return DType.subarrayOf(maskDType(dt.subarray.base), dt.subarray.shape);
  if (dt.names === null || !dt.fields) return new DType('b', 1);
  return DType.struct(
    dt.names.map((n) => ({
      name: n,
      dtype: maskDType((dt.fields as Map<string, { dtype: DType }>).get(n)!.dtype),
    })),
  );
}

/**
 * An array from raw bytes: `raw` in `order` and the dtype's byte order, exactly size × itemsize
 * bytes (UnpicklingError otherwise). No copy is made.
 */
export function ndarrayFromBuffer(
  dtype: DType,
  shape: readonly number[],
  order: 'C' | 'F',
  raw: Uint8Array,
  subclass?: string,
): NDArray {
  return new NDArray({
    dtype,
    shape,
    order,
    raw: bytesOf(raw, 'array data'),
    subclass: subclass ?? 'numpy.ndarray',
  });
}

/**
 * An array whose bytes stay where they are (a file) until first used: `load` is called once, on the
 * first read of `raw` (or `data`, `get`, …), and must return exactly the array's bytes. Shape and
 * dtype are checked now, so a bad file fails at open, not at first use. `isLoaded(a)` tells.
 */
export function lazyNDArray(
  dtype: DType,
  shape: readonly number[],
  order: 'C' | 'F',
  byteLength: number,
  load: () => Uint8Array,
  subclass?: string,
  ctx?: DecodeContext,
): NDArray {
  const { dtype: dt, shape: sh } = expandSubarray(dtype, shape);
  const size = checkShape(sh, dt.itemsize, ctx);
  if (dt.hasObject) throw err('object arrays cannot be read lazily', ctx);
  if (size * dt.itemsize !== byteLength) {
    throw err(
      `array data has ${byteLength} bytes, shape ${JSON.stringify(sh)} of ${dt.str} needs ${size * dt.itemsize}`,
      ctx,
    );
  }
  const a = new NDArray();
  a[ASSIGN]({ dtype: dt, shape: sh, order, raw: NO_BYTES, objects: null });
  a.subclass = subclass ?? 'numpy.ndarray';
  // An own accessor on this instance only (eager arrays keep a plain field): it reads the bytes once
  // and replaces itself by the data property every other array has.
  const settle = (raw: Uint8Array): Uint8Array => {
    Object.defineProperty(a, 'raw', { value: raw, writable: true, enumerable: true, configurable: true });
    return raw;
  };
  Object.defineProperty(a, 'raw', {
    configurable: true,
    enumerable: true,
    get: () => {
      const raw = load();
      if (raw.length !== byteLength)
        throw new RangeError(`lazy array: read ${raw.length} bytes, expected ${byteLength}`);
      return settle(raw);
    },
    set: (v: Uint8Array) => settle(v),
  });
  return a;
}

/**
 * False while a lazy array's bytes have not been read yet.
 * @example
 * const model = await load('big.joblib', { lazy: true }); isLoaded(model.weights) // false, until used
 */
export function isLoaded(a: NDArray): boolean {
  return typeof Object.getOwnPropertyDescriptor(a, 'raw')?.get !== 'function';
}

/** An array from numpy's `_reconstruct` BUILD state tuple `(version, shape, dtype, is_fortran, rawdata)`. */
export function ndarrayFromState(state: unknown, ctx: DecodeContext): NDArray {
  const a = new NDArray();
  a[SET_STATE](state, ctx);
  return a;
}

/** `module.name` of a class argument (PyGlobal), or a default. */
export function className(v: unknown, fallback: string): string {
  return v instanceof PyGlobal ? v.qualifiedName : fallback;
}

/**
 * A numpy scalar (`np.float64(1.5)`, `np.int64(7)`, `np.str_('hi')`, `np.datetime64(…)`): its dtype,
 * the element bytes and the decoded `value` (as `NDArray.get` would give it; 64-bit integers are
 * numbers when safe unless decoded losslessly). `valueOf()` returns `value`, so numeric scalars work
 * in arithmetic.
 */
export class NumpyScalar {
  constructor(
    readonly dtype: DType,
    /** The element bytes (empty for object scalars). */
    readonly raw: Uint8Array,
    readonly value: unknown,
  ) {}

  /** A scalar of `dtype` holding `value` (what `writeElement` accepts; object dtypes keep the value). */
  static of(dtype: DType | string, value: unknown): NumpyScalar {
    const dt = typeof dtype === 'string' ? DType.builtin(dtype) : dtype;
    if (dt.kind === 'O') return new NumpyScalar(dt, NO_BYTES, value);
    const raw = new Uint8Array(dt.itemsize);
    const view = new DataView(raw.buffer);
    writeElement(dt, value, raw, view, 0);
    return new NumpyScalar(
      dt,
      raw,
      readElement(dt, raw, view, 0, { safeNumbers: typeof value === 'number' }),
    );
  }

  valueOf(): unknown {
    return this.value;
  }

  toString(): string {
    const v = this.value;
    if (v instanceof Uint8Array)
      return `b'${[...v].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0'))).join('')}'`;
    return String(v);
  }

  toJSON(): unknown {
    const v = this.value;
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Complex) return { re: v.re, im: v.im };
    return v;
  }
}

/** `numpy.core.multiarray.scalar(dtype, data)`; object dtypes pass the object itself as `data`. */
export function scalarFromReduce(args: Tuple, ctx: DecodeContext): NumpyScalar {
  const dt = args[0]; // (indexing, not destructuring: no iterator per scalar)
  const data = args[1];
  if (!isDType(dt)) throw ctx.error('numpy scalar: the first argument is not a numpy.dtype');
  if (dt.hasObject) {
    if (dt.kind === 'O') return new NumpyScalar(dt, NO_BYTES, args.length > 1 ? data : null);
    throw ctx.error('numpy scalar: structured scalars with object fields are not supported');
  }
  if (args.length !== 2) throw ctx.error('numpy scalar expects (dtype, data)');
  let raw = bytesOf(data, 'numpy scalar data', ctx);
  if (raw.length !== dt.itemsize) {
    throw ctx.error(`numpy scalar data has ${raw.length} bytes, ${dt.str} needs ${dt.itemsize}`);
  }
  // numpy scalars are always native-endian: a non-native dtype is converted, as numpy does.
  let sdt = dt;
  if (!dt.isNativeOrder && dt.names === null && !dt.subarray) {
    raw = swapBytes(dt, raw, 1);
    sdt = nativeDType(dt);
  }
  const opts = ctx.lossless ? EXACT_NUMBERS : SAFE_NUMBERS;
  let value: unknown;
  if (raw.length <= SCRATCH.length && SCALAR_KINDS.has(sdt.kind) && sdt.names === null && !sdt.subarray) {
    // Numbers come out as fresh values, so a shared scratch copy does (no DataView per scalar:
    // 50k np.float64 scalars spent 11 % of their decode making DataViews).
    SCRATCH.set(raw);
    value = readElement(sdt, SCRATCH, SCRATCH_VIEW, 0, opts);
  } else value = readElement(sdt, raw, new DataView(raw.buffer, raw.byteOffset, raw.byteLength), 0, opts);
  return new NumpyScalar(sdt, raw, value);
}

const SCRATCH = new Uint8Array(32);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
/** Kinds whose readElement result is a new number/bigint/boolean/Complex, never a view of the bytes. */
const SCALAR_KINDS = new Set(['b', 'i', 'u', 'f', 'c', 'M', 'm']);
const SAFE_NUMBERS = { safeNumbers: true } as const;
const EXACT_NUMBERS = { safeNumbers: false } as const;

/** `_frombuffer(buf, dtype, shape, order[, axis_order])` (protocol 5, docs/FORMATS.md §4.2). */
export function ndarrayFromFrombuffer(args: Tuple, ctx: DecodeContext): NDArray {
  if (args.length !== 4 && args.length !== 5)
    throw ctx.error(`_frombuffer expects 4 or 5 arguments, got ${args.length}`);
  const [bufV, dtV, shapeV, orderV, axesV] = args;
  if (!isDType(dtV)) throw ctx.error('_frombuffer: the dtype is not a numpy.dtype');
  if (dtV.hasObject) throw ctx.error('_frombuffer cannot hold object dtypes');
  const raw = bytesOf(bufV, '_frombuffer buffer', ctx);
  const readonly = bufV instanceof PickleBuffer ? bufV.readonly : !(bufV instanceof ByteArray);
  const a = frombufferArray(bufV, dtV, shapeV, orderV, axesV, raw, args.length, ctx);
  a.writeable = !readonly;
  return a;
}

function frombufferArray(
  _bufV: unknown,
  dtV: DType,
  shapeV: unknown,
  orderV: unknown,
  axesV: unknown,
  raw: Uint8Array,
  nargs: number,
  ctx: DecodeContext,
): NDArray {
  const shape = parseShape(shapeV, ctx);
  const orderText = orderV instanceof Uint8Array ? String.fromCharCode(...orderV) : orderV;
  if (orderText === 'C' || orderText === 'A' || orderText === 'F') {
    if (nargs === 5 && axesV !== null) throw ctx.error(`_frombuffer: axis_order needs order 'K'`);
    const content = contentFrom(dtV, shape, orderText === 'F' ? 'F' : 'C', raw, ctx);
    return fromContent(content);
  }
  if (orderText !== 'K') throw ctx.error(`_frombuffer: unsupported order ${JSON.stringify(orderV)}`);
  if (axesV === undefined || axesV === null) return fromContent(contentFrom(dtV, shape, 'C', raw, ctx));
  // numpy >= 2.3: buf is C-ordered for `shape`; the array is that transposed by axis_order.
  const axes = parseShape(axesV, ctx);
  if (axes.length !== shape.length || [...axes].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw ctx.error('_frombuffer: axis_order is not a permutation of the axes');
  }
  const base = contentFrom(dtV, shape, 'C', raw, ctx);
  const outShape = axes.map((a) => base.shape[a] as number);
  const inStrides = cStrides(base.shape);
  const permStrides = axes.map((a) => inStrides[a] as number);
  // Reversed axes are exactly Fortran order of the result: keep the bytes as they are.
  const reversed = axes.every((a, i) => a === axes.length - 1 - i);
  if (reversed) return fromContent({ ...base, shape: outShape, order: 'F' });
  const s = base.dtype.itemsize;
  const out = new Uint8Array(base.raw.length);
  forEachC(outShape, permStrides, (p, i) => out.set(base.raw.subarray(p * s, p * s + s), i * s));
  return fromContent({ ...base, shape: outShape, order: 'C', raw: out });
}

function fromContent(c: ArrayContent): NDArray {
  const a = new NDArray();
  a[ASSIGN](c);
  return a;
}

Object.defineProperty(NDArray.prototype, UNHASHABLE, { value: true });
