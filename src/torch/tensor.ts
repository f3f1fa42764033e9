/**
 * torch tensors as JS objects that view a shared Storage: element `i…` of a tensor is storage
 * element `storageOffset + Σ i_d × stride_d`, as in torch. Views, transposes, stride-0 expansions and
 * tied weights read right without a copy per tensor. See dtypes.ts for what each dtype's values are.
 */
import { Complex } from '../python/values.js';
import type { NumericTypedArray } from '../numpy/elements.js';
import { numberToHalf } from '../numpy/elements.js';
import { Storage } from './storage.js';
import { dtypeInfo, isQuantizedDType, numberToBf16, valuesPerByte, type TorchDTypeInfo } from './dtypes.js';

/** Most dimensions accepted. */
const MAX_DIMS = 64;
/** `toNested` refuses to build more nested arrays than this (a (10^9, 0)-shaped tensor is legal). */
const MAX_NESTED = 2 ** 27;

/** Everything a Tensor is made from. */
export interface TensorInit {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Elements to step per index along each axis (default: C-contiguous). */
  readonly stride?: readonly number[];
  /** First element's index in the storage, in elements (default 0). */
  readonly storageOffset?: number;
  /** The storage; null for tensors without data (meta tensors). */
  readonly storage: Storage | null;
  readonly requiresGrad?: boolean;
  /** `'cpu'`, `'cuda:0'`, `'meta'`, … (default: the storage's location, or 'meta' without one). */
  readonly device?: string;
  /** The stored values are to be conjugated (torch's conj bit). */
  readonly conj?: boolean;
  /** The stored values are to be negated (torch's neg bit). */
  readonly neg?: boolean;
}

/** C-contiguous strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= Math.max(shape[i] as number, 1);
  }
  return s;
}

function checkDims(what: string, v: readonly number[], allowZero: boolean): number[] {
  if (!Array.isArray(v) || v.length > MAX_DIMS)
    throw new RangeError(`${what} must be an array of at most ${MAX_DIMS} ints`);
  return v.map((d) => {
    if (!Number.isSafeInteger(d) || d < 0 || (!allowZero && d < 0))
      throw new RangeError(`invalid ${what} entry ${String(d)}`);
    return d;
  });
}

/**
 * A torch tensor.
 * @example
 * const t = Tensor.fromTypedArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * t.get(1, 2) // 6
 * t.toNested() // [[1, 2, 3], [4, 5, 6]]
 */
export class Tensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly stride: number[];
  readonly storageOffset: number;
  requiresGrad: boolean;
  readonly storage: Storage | null;
  readonly device: string;
  /** torch's conj bit: values read are conjugated. */
  readonly conj: boolean;
  /** torch's neg bit: values read are negated. */
  readonly neg: boolean;
  /**
   * Python attributes of the tensor object (`_rebuild_parameter_with_state`, tensor subclasses),
   * or undefined.
   */
  attributes: Map<string, unknown> | undefined;
  readonly #info: TorchDTypeInfo;

  constructor(init: TensorInit) {
    const info = dtypeInfo(init.dtype);
    if (!info) throw new RangeError(`unknown torch dtype ${JSON.stringify(init.dtype)}`);
    this.#info = info;
    this.dtype = info.name;
    this.shape = checkDims('shape', init.shape, true);
    this.stride = init.stride ? checkDims('stride', init.stride, true) : contiguousStrides(this.shape);
    if (this.stride.length !== this.shape.length)
      throw new RangeError(`stride has ${this.stride.length} entries for ${this.shape.length} dimensions`);
    this.storageOffset = init.storageOffset ?? 0;
    if (!Number.isSafeInteger(this.storageOffset) || this.storageOffset < 0)
      throw new RangeError(`invalid storage offset ${this.storageOffset}`);
    this.storage = init.storage;
    this.requiresGrad = init.requiresGrad ?? false;
    this.device = init.device ?? init.storage?.location ?? 'meta';
    this.conj = init.conj ?? false;
    this.neg = init.neg ?? false;
    if (this.storage) {
      // The furthest element a view reaches must lie inside the storage (checked without reading it).
      const n = this.numel;
      if (n > 0) {
        let last = this.storageOffset;
        for (let d = 0; d < this.shape.length; d++)
          last += ((this.shape[d] as number) - 1) * (this.stride[d] as number);
        const capacity = Math.floor((this.storage.nbytes * valuesPerByte(info)) / info.itemsize);
        if (!Number.isSafeInteger(last) || last >= capacity) {
          throw new RangeError(
            `tensor of shape [${this.shape.join(', ')}], stride [${this.stride.join(', ')}], offset ${this.storageOffset} reaches element ${last} of a storage of ${capacity}`,
          );
        }
      }
    }
  }

  /**
   * A tensor over a TypedArray's memory (no copy). The dtype follows the array (Float32Array →
   * float32, BigInt64Array → int64, Uint8Array → uint8, …) unless given: `'bool'` for a Uint8Array
   * of 0/1, `'float16'`/`'bfloat16'` for a Uint16Array of raw bits.
   * @example
   * Tensor.fromTypedArray(new Float64Array([1, 2, 3, 4]), [2, 2])
   * Tensor.fromTypedArray(new Uint16Array([0x3c00]), [1], 'float16') // 1.0 as half
   */
  static fromTypedArray(data: NumericTypedArray, shape?: readonly number[], dtype?: string): Tensor {
    const natural = TYPED_DTYPE.get(data.constructor);
    if (natural === undefined) throw new TypeError('unsupported TypedArray');
    const name = dtype ?? natural;
    const info = dtypeInfo(name);
    if (!info) throw new RangeError(`unknown torch dtype ${JSON.stringify(name)}`);
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.length % info.itemsize !== 0)
      throw new RangeError(`${bytes.length} bytes is no whole number of ${info.name} elements`);
    if (!HOST_LITTLE && info.itemsize > 1)
      throw new RangeError('Tensor.fromTypedArray needs a little-endian host');
    const count = bytes.length / info.itemsize;
    const sh = shape ?? [count];
    const storage = new Storage({ dtype: info.name, nbytes: bytes.length, bytes });
    const t = new Tensor({ dtype: info.name, shape: sh, storage });
    if (t.numel !== count) throw new RangeError(`${count} elements for shape [${sh.join(', ')}]`);
    return t;
  }

  /**
   * A tensor of `dtype` from values in C order (numbers, bigints, booleans, `Complex`).
   * @example
   * Tensor.fromValues('bfloat16', [1.5, -2], [2])
   */
  static fromValues(dtype: string, values: readonly unknown[], shape?: readonly number[]): Tensor {
    const info = dtypeInfo(dtype);
    if (!info || isQuantizedDType(info.name))
      throw new RangeError(`cannot make a ${dtype} tensor from values`);
    const n = values.length;
    const bytes = new Uint8Array(n * info.itemsize);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) writeValue(info, v, i * info.itemsize, values[i]);
    const storage = new Storage({ dtype: info.name, nbytes: bytes.length, bytes });
    const sh = shape ?? [n];
    const t = new Tensor({ dtype: info.name, shape: sh, storage });
    if (t.numel !== n) throw new RangeError(`${n} values for shape [${sh.join(', ')}]`);
    return t;
  }

  /**
   * Number of elements.
   * @example
   * Tensor.fromValues('float32', [1, 2, 3, 4], [2, 2]).numel // 4
   */
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Bytes per element (1 for the packed quantized types). */
  get itemsize(): number {
    return this.#info.itemsize;
  }

  /**
   * True when the elements are laid out in C order without gaps (size-1 axes ignored).
   * @example
   * t.isContiguous() // false for a transpose saved by torch
   */
  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const size = this.shape[d] as number;
      if (size === 0) return true;
      if (size !== 1 && this.stride[d] !== expected) return false;
      expected *= size;
    }
    return true;
  }

  /** The storage elements (host order) and the number of TypedArray slots per element. */
  private elements(): { arr: NumericTypedArray; comp: number } {
    if (!this.storage) throw new RangeError(`a ${this.device} tensor has no data`);
    const k = this.#info.kind;
    return {
      arr: this.storage.elements(this.#info),
      comp: k === 'c32' || k === 'c64' || k === 'c128' ? 2 : 1,
    };
  }

  /** Visit storage positions in C order. */
  private forEach(fn: (p: number, i: number) => void): void {
    const shape = this.shape;
    const stride = this.stride;
    const nd = shape.length;
    const size = this.numel;
    if (size === 0) return;
    const idx = new Array<number>(nd).fill(0);
    let p = this.storageOffset;
    for (let i = 0; i < size; i++) {
      fn(p, i);
      for (let k = nd - 1; k >= 0; k--) {
        idx[k] = (idx[k] as number) + 1;
        p += stride[k] as number;
        if ((idx[k] as number) < (shape[k] as number)) break;
        p -= (stride[k] as number) * (shape[k] as number);
        idx[k] = 0;
      }
    }
  }

  /**
   * The elements in C order as a TypedArray (see dtypes.ts for which). A view of the storage (no
   * copy) when the tensor is contiguous and the storage needs no conversion; otherwise a new array.
   * conj/neg bits are applied (by copying).
   * @example
   * Tensor.fromValues('float16', [0.5, 2]).data // Float32Array [0.5, 2]
   */
  get data(): NumericTypedArray {
    const { arr, comp } = this.elements();
    const n = this.numel;
    if (this.isContiguous() && !this.conj && !this.neg) {
      return arr.subarray(this.storageOffset * comp, (this.storageOffset + n) * comp) as NumericTypedArray;
    }
    const out = new (arr.constructor as new (n: number) => NumericTypedArray)(n * comp) as {
      [i: number]: number | bigint;
    };
    const src = arr as unknown as { [i: number]: number | bigint };
    const neg = this.neg;
    if (comp === 2) {
      const sign = this.conj ? -1 : 1;
      this.forEach((p, i) => {
        const re = src[2 * p] as number;
        const im = (src[2 * p + 1] as number) * sign;
        out[2 * i] = neg ? -re : re;
        out[2 * i + 1] = neg ? -im : im;
      });
    } else if (neg) {
      this.forEach((p, i) => {
        const x = src[p] as number | bigint;
        out[i] = typeof x === 'bigint' ? -x : -x;
      });
    } else this.forEach((p, i) => (out[i] = src[p] as number | bigint));
    return out as unknown as NumericTypedArray;
  }

  /** The element at `p` of the storage as a JS value. */
  private valueAt(arr: NumericTypedArray, comp: number, p: number): unknown {
    const a = arr as unknown as { [i: number]: number | bigint };
    if (comp === 2) {
      let re = a[2 * p] as number;
      let im = a[2 * p + 1] as number;
      if (this.conj) im = -im;
      if (this.neg) {
        re = -re;
        im = -im;
      }
      return new Complex(re, im);
    }
    const x = a[p] as number | bigint;
    if (this.#info.kind === 'bool') return x !== 0;
    if (this.neg) return typeof x === 'bigint' ? -x : -x;
    return x;
  }

  /**
   * One element by index (one per dimension, negative counts from the end). Floats are numbers,
   * int64 bigints, bool booleans, complex `Complex`.
   * @example
   * t.get(0, -1)
   */
  get(...index: number[]): unknown {
    if (index.length !== this.shape.length)
      throw new RangeError(`${index.length} indices for ${this.shape.length} dimensions`);
    let p = this.storageOffset;
    for (let d = 0; d < index.length; d++) {
      const n = this.shape[d] as number;
      let i = index[d] as number;
      if (!Number.isInteger(i) || i >= n || i < -n)
        throw new RangeError(`index ${i} is out of range for dimension ${d} of size ${n}`);
      if (i < 0) i += n;
      p += i * (this.stride[d] as number);
    }
    const { arr, comp } = this.elements();
    return this.valueAt(arr, comp, p);
  }

  /**
   * The values as nested arrays in C order (strides applied), like Python's `tensor.tolist()`.
   * @example
   * Tensor.fromValues('int64', [1n, 2n]).toNested() // [1n, 2n]
   */
  toNested(): unknown {
    const { arr, comp } = this.elements();
    const flat: unknown[] = new Array(this.numel);
    this.forEach((p, i) => (flat[i] = this.valueAt(arr, comp, p)));
    return nest(flat, this.shape);
  }

  /**
   * The element bytes in C order, little-endian (torch's layout in a little-endian archive): a view
   * of the storage when contiguous, little-endian and without conj/neg bits, else a copy.
   * @example
   * Tensor.fromValues('int16', [1, -1]).bytes() // Uint8Array [1, 0, 255, 255]
   */
  bytes(): Uint8Array {
    if (!this.storage) throw new RangeError(`a ${this.device} tensor has no data`);
    const size = this.#info.itemsize;
    const packed = valuesPerByte(this.#info);
    if (
      this.isContiguous() &&
      !this.conj &&
      !this.neg &&
      this.storage.byteOrder === 'little' &&
      packed === 1
    ) {
      return this.storage.bytes.subarray(this.storageOffset * size, (this.storageOffset + this.numel) * size);
    }
    if (packed !== 1) throw new RangeError(`bytes() of a ${this.dtype} tensor: use intRepr()`);
    if (this.conj || this.neg) return valuesToBytes(this.#info, this.data);
    const src = this.storage.bytes;
    const out = new Uint8Array(this.numel * size);
    const swap = this.storage.byteOrder === 'big';
    const half =
      this.#info.kind === 'c32' || this.#info.kind === 'c64' || this.#info.kind === 'c128' ? size / 2 : size;
    this.forEach((p, i) => {
      const from = p * size;
      const to = i * size;
      if (!swap) for (let b = 0; b < size; b++) out[to + b] = src[from + b] as number;
      else
        for (let b = 0; b < size; b++)
          out[to + b] = src[from + (Math.floor(b / half) * half + half - 1 - (b % half))] as number;
    });
    return out;
  }

  /**
   * A C-contiguous tensor with its own storage holding these values (this tensor when it already is
   * contiguous, starts its storage, spans all of it and has no conj/neg bits).
   * @example
   * sd.get('T').contiguous().stride // [4, 1] for a (6, 4) transpose
   */
  contiguous(): Tensor {
    const s = this.storage;
    if (
      s &&
      this.isContiguous() &&
      this.storageOffset === 0 &&
      !this.conj &&
      !this.neg &&
      s.byteOrder === 'little' &&
      s.nbytes === this.numel * this.itemsize
    ) {
      return this;
    }
    const bytes = this.bytes();
    const storage = new Storage({
      dtype: this.dtype,
      nbytes: bytes.length,
      bytes: bytes === s?.bytes ? bytes : bytes.slice(),
    });
    return new Tensor({
      dtype: this.dtype,
      shape: this.shape,
      storage,
      requiresGrad: this.requiresGrad,
      device: this.device,
    });
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}]${this.device !== 'cpu' ? `, ${this.device}` : ''})`;
  }
}

/** `torch.nn.Parameter`: a tensor that is a module parameter. */
export class Parameter extends Tensor {}

/** Which affine quantization a quantized tensor uses. */
export type QScheme =
  | 'per_tensor_affine'
  | 'per_channel_affine'
  | 'per_tensor_symmetric'
  | 'per_channel_symmetric'
  | 'per_channel_affine_float_qparams';

/** Quantization parameters of a quantized tensor. */
export interface QParams {
  readonly qscheme: QScheme;
  /** Per-tensor scale / zero point. */
  readonly scale?: number;
  readonly zeroPoint?: number;
  /** Per-channel scales / zero points (one per index of `axis`). */
  readonly scales?: Tensor;
  readonly zeroPoints?: Tensor;
  readonly axis?: number;
}

/**
 * A quantized tensor (qint8, quint8, qint32, quint4x2, quint2x4). `data`, `get` and `intRepr` give the
 * integers; `dequantize()` and `toNested()` the real values `(q - zero_point) × scale`.
 * @example
 * q.dequantize().toNested()
 */
export class QuantizedTensor extends Tensor {
  readonly qscheme: QScheme;
  readonly scale: number | undefined;
  readonly zeroPoint: number | undefined;
  readonly scales: Tensor | undefined;
  readonly zeroPoints: Tensor | undefined;
  readonly axis: number | undefined;

  constructor(init: TensorInit, q: QParams) {
    super(init);
    this.qscheme = q.qscheme;
    this.scale = q.scale;
    this.zeroPoint = q.zeroPoint;
    this.scales = q.scales;
    this.zeroPoints = q.zeroPoints;
    this.axis = q.axis;
    const perChannel = q.scales !== undefined;
    if (perChannel) {
      const ax = q.axis ?? -1;
      if (!Number.isInteger(ax) || ax < 0 || ax >= this.shape.length)
        throw new RangeError(`invalid quantization axis ${ax}`);
      const n = this.shape[ax] as number;
      if (q.scales.numel !== n || q.zeroPoints?.numel !== n)
        throw new RangeError(`per-channel quantization needs ${n} scales and zero points`);
    } else if (typeof q.scale !== 'number' || typeof q.zeroPoint !== 'number') {
      throw new RangeError('per-tensor quantization needs a scale and a zero point');
    }
  }

  /**
   * The integer values as a tensor of the matching integer dtype (uint8 for the packed types).
   * @example
   * q.intRepr().toNested() // [[-20, 0, 10], …] for scale 0.05, zero point 0
   */
  intRepr(): Tensor {
    const ints = this.data;
    const dtype = this.dtype === 'qint8' ? 'int8' : this.dtype === 'qint32' ? 'int32' : 'uint8';
    return Tensor.fromTypedArray(ints.slice() as NumericTypedArray, this.shape, dtype);
  }

  /**
   * float32 values `(q - zero_point) × scale`.
   * @example
   * q.dequantize().toNested() // [[-1, 0, 0.5], …]
   */
  dequantize(): Tensor {
    const ints = this.data as unknown as ArrayLike<number>;
    const out = new Float32Array(ints.length);
    if (this.scales) {
      const ax = this.axis as number;
      const scales = this.scales.data as unknown as ArrayLike<number>;
      const zps = this.zeroPoints?.data as unknown as ArrayLike<number | bigint>;
      let inner = 1;
      for (let d = ax + 1; d < this.shape.length; d++) inner *= this.shape[d] as number;
      const n = this.shape[ax] as number;
      // As torch's kernels: per-channel scales stay float64, per-tensor ones are float32 (below).
      for (let i = 0; i < ints.length; i++) {
        const c = Math.floor(i / inner) % n;
        out[i] = ((ints[i] as number) - Number(zps[c])) * (scales[c] as number);
      }
    } else {
      const s = Math.fround(this.scale as number);
      const z = this.zeroPoint as number;
      for (let i = 0; i < ints.length; i++) out[i] = Math.fround(((ints[i] as number) - z) * s);
    }
    return Tensor.fromTypedArray(out, this.shape);
  }

  override toNested(): unknown {
    return this.dequantize().toNested();
  }
}

/** Layouts of sparse tensors. */
export type SparseLayout = 'sparse_coo' | 'sparse_csr' | 'sparse_csc' | 'sparse_bsr' | 'sparse_bsc';

/**
 * A sparse tensor: COO (`indices` [ndim, nnz] int64 + `values`) or compressed (`compressedIndices`,
 * `plainIndices`, `values`). `toDense()` gives the dense tensor.
 * @example
 * sparse.toDense().toNested()
 */
export class SparseTensor {
  readonly layout: SparseLayout;
  readonly shape: number[];
  readonly values: Tensor;
  readonly indices: Tensor | undefined;
  readonly compressedIndices: Tensor | undefined;
  readonly plainIndices: Tensor | undefined;
  readonly coalesced: boolean;
  requiresGrad = false;

  constructor(init: {
    layout: SparseLayout;
    shape: readonly number[];
    values: Tensor;
    indices?: Tensor;
    compressedIndices?: Tensor;
    plainIndices?: Tensor;
    coalesced?: boolean;
  }) {
    this.layout = init.layout;
    this.shape = checkDims('shape', init.shape, true);
    this.values = init.values;
    this.indices = init.indices;
    this.compressedIndices = init.compressedIndices;
    this.plainIndices = init.plainIndices;
    this.coalesced = init.coalesced ?? false;
    if (init.layout === 'sparse_coo') {
      if (!init.indices || init.indices.ndim !== 2)
        throw new RangeError('sparse COO indices must be a 2-D tensor');
    } else if (!init.compressedIndices || !init.plainIndices) {
      throw new RangeError(`${init.layout} needs compressed and plain indices`);
    }
  }

  get dtype(): string {
    return this.values.dtype;
  }

  /**
   * The dense tensor (duplicates of uncoalesced COO entries are summed, as torch does).
   * @example
   * sparse.toDense().toNested() // [[0, 0, 3], [4, 0, 5]]
   */
  toDense(): Tensor {
    const shape = this.shape;
    const info = dtypeInfo(this.values.dtype) as TorchDTypeInfo;
    const strides = contiguousStrides(shape);
    const total = shape.reduce((a, b) => a * b, 1);
    const vals = this.values;
    const comp = info.kind === 'c32' || info.kind === 'c64' || info.kind === 'c128' ? 2 : 1;
    const vdata = vals.data as unknown as { [i: number]: number | bigint; length: number };
    const out = new (vdata.constructor as new (n: number) => { [i: number]: number | bigint })(total * comp);
    // Each stored value is a block (hybrid tensors: dense trailing dimensions).
    const nnz = vals.shape.length > 0 ? (vals.shape[0] as number) : 1;
    const block = nnz === 0 ? 0 : vals.numel / nnz;
    const add = (pos: number, v: number): void => {
      for (let b = 0; b < block * comp; b++) {
        const at = pos * comp + b;
        const cur = out[at] as number | bigint;
        const x = vdata[v * block * comp + b] as number | bigint;
        out[at] =
          typeof cur === 'bigint'
            ? cur + (x as bigint)
            : info.kind === 'bool'
              ? Number(cur !== 0 || x !== 0)
              : (cur as number) + (x as number);
      }
    };
    if (this.layout === 'sparse_coo') {
      const idx = this.indices as Tensor;
      const sparseDims = idx.shape[0] as number;
      const nnz = idx.shape[1] as number;
      for (let k = 0; k < nnz; k++) {
        let pos = 0;
        for (let d = 0; d < sparseDims; d++) pos += Number(idx.get(d, k)) * (strides[d] as number);
        add(pos, k);
      }
    } else if (this.layout === 'sparse_csr' || this.layout === 'sparse_csc') {
      const comp2 = this.compressedIndices as Tensor;
      const plain = this.plainIndices as Tensor;
      const rows = (comp2.shape[0] as number) - 1;
      for (let r = 0; r < rows; r++) {
        const a = Number(comp2.get(r));
        const b = Number(comp2.get(r + 1));
        for (let k = a; k < b; k++) {
          const c = Number(plain.get(k));
          const pos =
            this.layout === 'sparse_csr' ? r * (shape[1] as number) + c : c * (shape[1] as number) + r;
          add(pos, k);
        }
      }
    } else {
      throw new RangeError(`toDense() of ${this.layout} tensors is not supported`);
    }
    const bytes = valuesToBytes(info, out as unknown as NumericTypedArray);
    return new Tensor({
      dtype: info.name,
      shape,
      storage: new Storage({ dtype: info.name, nbytes: bytes.length, bytes }),
    });
  }

  toNested(): unknown {
    return this.toDense().toNested();
  }

  toString(): string {
    return `SparseTensor(${this.layout}, ${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TYPED_DTYPE = new Map<unknown, string>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'uint64'],
]);

function nest(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let containers = 0;
  let level = 1;
  for (let d = 0; d < shape.length - 1; d++) {
    level *= shape[d] as number;
    containers += level;
  }
  if (containers > MAX_NESTED)
    throw new RangeError(`toNested would build ${containers} arrays (at most ${MAX_NESTED})`);
  const build = (d: number, start: number, span: number): unknown[] => {
    const n = shape[d] as number;
    const step = n === 0 ? 0 : span / n;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++)
      out[i] = d === shape.length - 1 ? flat[start + i] : build(d + 1, start + i * step, step);
    return out;
  };
  return build(0, 0, flat.length);
}

/** Write one value of `info` at `at` (little-endian). */
function writeValue(info: TorchDTypeInfo, v: DataView, at: number, x: unknown): void {
  const num = (): number => {
    if (typeof x === 'number') return x;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'bigint') return Number(x);
    throw new TypeError(`cannot store ${typeof x} in a ${info.name} tensor`);
  };
  const big = (): bigint => (typeof x === 'bigint' ? x : BigInt(Math.trunc(num())));
  switch (info.kind) {
    case 'f32':
      return v.setFloat32(at, num(), true);
    case 'f64':
      return v.setFloat64(at, num(), true);
    case 'f16':
      return v.setUint16(at, numberToHalf(num()), true);
    case 'bf16':
      return v.setUint16(at, numberToBf16(num()), true);
    case 'i8':
      return v.setInt8(at, num());
    case 'u8':
    case 'bool':
      return v.setUint8(at, info.kind === 'bool' ? (num() ? 1 : 0) : num());
    case 'i16':
      return v.setInt16(at, num(), true);
    case 'u16':
      return v.setUint16(at, num(), true);
    case 'i32':
      return v.setInt32(at, num(), true);
    case 'u32':
      return v.setUint32(at, num(), true);
    case 'i64':
      return v.setBigInt64(at, big(), true);
    case 'u64':
      return v.setBigUint64(at, big(), true);
    case 'c64':
    case 'c128': {
      const c = x instanceof Complex ? x : new Complex(num(), 0);
      if (info.kind === 'c64') {
        v.setFloat32(at, c.re, true);
        v.setFloat32(at + 4, c.im, true);
      } else {
        v.setFloat64(at, c.re, true);
        v.setFloat64(at + 8, c.im, true);
      }
      return;
    }
    default:
      throw new RangeError(`cannot make a ${info.name} tensor from values`);
  }
}

/** Element values (as `data` gives them) back to little-endian bytes. */
function valuesToBytes(info: TorchDTypeInfo, data: NumericTypedArray): Uint8Array {
  const comp = info.kind === 'c32' || info.kind === 'c64' || info.kind === 'c128' ? 2 : 1;
  const n = data.length / comp;
  const out = new Uint8Array(n * info.itemsize);
  const v = new DataView(out.buffer);
  const d = data as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    if (comp === 2) {
      const half = info.itemsize / 2;
      const re = d[2 * i] as number;
      const im = d[2 * i + 1] as number;
      if (half === 8) {
        v.setFloat64(i * 16, re, true);
        v.setFloat64(i * 16 + 8, im, true);
      } else if (half === 4) {
        v.setFloat32(i * 8, re, true);
        v.setFloat32(i * 8 + 4, im, true);
      } else {
        v.setUint16(i * 4, numberToHalf(re), true);
        v.setUint16(i * 4 + 2, numberToHalf(im), true);
      }
    } else writeValue(info, v, i * info.itemsize, d[i]);
  }
  return out;
}
