/**
 * A torch storage: the flat bytes tensors view. Several tensors (tied weights, slices, transposes)
 * share one Storage object, exactly as they share one storage in torch.
 *
 * The bytes are reached only through `bytes` (resolved on first use from a loader): an archive read
 * from memory resolves to a view of the input, one read from a file does a positioned read then. A
 * tensor never holds bytes of its own.
 */
import { UnpicklingError } from '../errors.js';
import { FLOAT8_TABLES, bf16ToNumber, type TorchDTypeInfo } from './dtypes.js';
import { halfToNumber } from '../numpy/elements.js';
import type { NumericTypedArray } from '../numpy/elements.js';

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What a Storage is made from. */
export interface StorageInit {
  /** dtype of the storage class (`'uint8'` for UntypedStorage). */
  readonly dtype: string;
  /** Size in bytes (known from the persistent id before any byte is read). */
  readonly nbytes: number;
  /** The archive key (`data/<key>`), '' for storages made in JS. */
  readonly key?: string;
  /** Where the tensor lived when saved (`'cpu'`, `'cuda:0'`…); the bytes are always a CPU copy. */
  readonly location?: string;
  /** Byte order of the stored elements (`byteorder` entry of torch >= 2.1 archives). Default little. */
  readonly byteOrder?: 'little' | 'big';
  /** True for `UntypedStorage` (bytes whose dtype the tensor says, `_rebuild_tensor_v3`). */
  readonly untyped?: boolean;
  /** The bytes, when already at hand. */
  readonly bytes?: Uint8Array;
  /** Reads the bytes on first use (exactly `nbytes`). */
  readonly load?: () => Uint8Array;
}

/**
 * A storage of `nbytes` bytes.
 * @example
 * const s = new Storage({ dtype: 'float32', nbytes: 8, bytes: new Uint8Array(8) });
 * s.bytes.length // 8
 */
export class Storage {
  readonly dtype: string;
  readonly nbytes: number;
  readonly key: string;
  readonly location: string;
  readonly byteOrder: 'little' | 'big';
  readonly untyped: boolean;
  #bytes: Uint8Array | undefined;
  #load: (() => Uint8Array) | undefined;
  readonly #elements = new Map<string, NumericTypedArray>();

  constructor(init: StorageInit) {
    if (!Number.isSafeInteger(init.nbytes) || init.nbytes < 0)
      throw new RangeError(`invalid storage size ${init.nbytes}`);
    this.dtype = init.dtype;
    this.nbytes = init.nbytes;
    this.key = init.key ?? '';
    this.location = init.location ?? 'cpu';
    this.byteOrder = init.byteOrder ?? 'little';
    this.untyped = init.untyped ?? false;
    this.#bytes = init.bytes;
    this.#load = init.load;
    if (this.#bytes !== undefined && this.#bytes.length !== this.nbytes) {
      throw new RangeError(`storage of ${this.nbytes} bytes given ${this.#bytes.length}`);
    }
  }

  /** True once the bytes have been read (always true for storages made in memory). */
  get loaded(): boolean {
    return this.#bytes !== undefined;
  }

  /** The raw bytes, in the archive's byte order. Read on first use. */
  get bytes(): Uint8Array {
    if (this.#bytes === undefined) {
      const load = this.#load;
      if (!load) throw new UnpicklingError(`storage ${this.key} has no data`, -1, undefined, 'corrupt');
      const b = load();
      if (b.length !== this.nbytes) {
        throw new UnpicklingError(
          `corrupt torch archive: storage ${this.key} has ${b.length} bytes, its persistent id says ${this.nbytes}`,
          -1,
          undefined,
          'corrupt',
        );
      }
      this.#bytes = b;
    }
    return this.#bytes;
  }

  /**
   * Forget bytes read through the loader (the next use reads them again), so that a streaming
   * conversion holds one storage at a time. Storages made from bytes in memory keep them.
   * @example
   * for (const t of tensors) { sink(t.bytes()); t.storage?.release(); }
   */
  release(): void {
    if (this.#load === undefined) return;
    this.#bytes = undefined;
    this.#elements.clear();
  }

  /**
   * The whole storage as elements of `info` in the host's order (see dtypes.ts for the TypedArray of
   * each dtype). A view of `bytes` when the layout allows it, else a converted copy made once and
   * shared by every tensor of this storage.
   * @internal
   */
  elements(info: TorchDTypeInfo): NumericTypedArray {
    let e = this.#elements.get(info.kind);
    if (e === undefined) {
      e = decodeElements(info, this.bytes, this.byteOrder === 'little');
      this.#elements.set(info.kind, e);
    }
    return e;
  }
}

type Ctor = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericTypedArray;
  new (length: number): NumericTypedArray;
  BYTES_PER_ELEMENT: number;
};

/** A view when aligned and in host order, else a copy read through a DataView. */
function direct(
  ctor: Ctor,
  bytes: Uint8Array,
  little: boolean,
  read: (v: DataView, at: number, little: boolean) => number | bigint,
): NumericTypedArray {
  const size = ctor.BYTES_PER_ELEMENT;
  const n = Math.floor(bytes.length / size);
  if (little === HOST_LITTLE || size === 1) {
    if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
    const copy = bytes.slice(0, n * size);
    return new ctor(copy.buffer, 0, n);
  }
  const out = new ctor(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) (out as { [i: number]: number | bigint })[i] = read(view, i * size, little);
  return out;
}

function decodeElements(info: TorchDTypeInfo, bytes: Uint8Array, little: boolean): NumericTypedArray {
  const view = (): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (info.kind) {
    case 'f32':
    case 'c64':
      return direct(Float32Array, bytes, little, (v, a, l) => v.getFloat32(a, l));
    case 'f64':
    case 'c128':
      return direct(Float64Array, bytes, little, (v, a, l) => v.getFloat64(a, l));
    case 'i8':
      return direct(Int8Array, bytes, little, (v, a) => v.getInt8(a));
    case 'u8':
    case 'bool':
      return direct(Uint8Array, bytes, little, (v, a) => v.getUint8(a));
    case 'i16':
      return direct(Int16Array, bytes, little, (v, a, l) => v.getInt16(a, l));
    case 'u16':
      return direct(Uint16Array, bytes, little, (v, a, l) => v.getUint16(a, l));
    case 'i32':
      return direct(Int32Array, bytes, little, (v, a, l) => v.getInt32(a, l));
    case 'u32':
      return direct(Uint32Array, bytes, little, (v, a, l) => v.getUint32(a, l));
    case 'i64':
      return direct(BigInt64Array as unknown as Ctor, bytes, little, (v, a, l) => v.getBigInt64(a, l));
    case 'u64':
      return direct(BigUint64Array as unknown as Ctor, bytes, little, (v, a, l) => v.getBigUint64(a, l));
    case 'f16':
    case 'c32':
    case 'bf16': {
      const n = bytes.length >> 1;
      const out = new Float32Array(n);
      const v = view();
      const conv = info.kind === 'bf16' ? bf16ToNumber : halfToNumber;
      for (let i = 0; i < n; i++) out[i] = conv(v.getUint16(2 * i, little));
      return out;
    }
    case 'e4m3fn':
    case 'e4m3fnuz':
    case 'e5m2':
    case 'e5m2fnuz':
    case 'e8m0': {
      const t = FLOAT8_TABLES[info.kind];
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = t[bytes[i] as number] as number;
      return out;
    }
    case 'q4x2':
    case 'q2x4': {
      // Packed low bits first: value i is bits [w*(i%k), w*(i%k)+w) of byte i/k.
      const k = info.kind === 'q4x2' ? 2 : 4;
      const w = 8 / k;
      const mask = (1 << w) - 1;
      const out = new Uint8Array(bytes.length * k);
      for (let i = 0; i < out.length; i++) out[i] = ((bytes[(i / k) | 0] as number) >> (w * (i % k))) & mask;
      return out;
    }
  }
}
