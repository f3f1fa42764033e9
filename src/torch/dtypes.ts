/**
 * torch dtypes: names (torch's, without `torch.`), element sizes, storage class names, and how
 * element values reach JS.
 *
 * How values reach JS (`Tensor.data`, `get`, `toNested`):
 * - float32 / float64 → Float32Array / Float64Array (views of the storage when aligned and native)
 * - float16, bfloat16, float8_* → Float32Array, converted once per storage (exact: every value of
 *   these formats is a float32); the original bits stay in `Tensor.bytes()` / `Storage.bytes`
 * - int8/16/32, uint8/16/32 → the matching TypedArray; int64 → BigInt64Array, uint64 → BigUint64Array
 *   (elements are bigint)
 * - bool → Uint8Array of 0/1 (`get`/`toNested` give booleans)
 * - complex64 / complex128 / complex32 → Float32Array / Float64Array / Float32Array of interleaved
 *   `re, im` (`get` gives `Complex`)
 * - qint8 / quint8 / qint32 → the integer representation (Int8Array / Uint8Array / Int32Array);
 *   `QuantizedTensor.dequantize()` gives float32; quint4x2 / quint2x4 are unpacked to one Uint8 per value
 */

/** How one dtype's elements are laid out and converted. */
export interface TorchDTypeInfo {
  /** torch's name without `torch.` ('float32'). */
  readonly name: string;
  /** Bytes per element in storage (1 for the packed sub-byte quantized types). */
  readonly itemsize: number;
  /** The element codec. */
  readonly kind: ElementKind;
  /** Legacy/typed storage class name (`FloatStorage`), when torch has one. */
  readonly storage?: string;
  /** The safetensors dtype code, when safetensors has one. */
  readonly safetensors?: string;
  /** numpy typestr (little-endian) of the element, when numpy has one. */
  readonly numpy?: string;
}

export type ElementKind =
  | 'f32'
  | 'f64'
  | 'f16'
  | 'bf16'
  | 'e4m3fn'
  | 'e4m3fnuz'
  | 'e5m2'
  | 'e5m2fnuz'
  | 'e8m0'
  | 'i8'
  | 'u8'
  | 'i16'
  | 'u16'
  | 'i32'
  | 'u32'
  | 'i64'
  | 'u64'
  | 'bool'
  | 'c32'
  | 'c64'
  | 'c128'
  | 'q4x2'
  | 'q2x4';

const T = (
  name: string,
  itemsize: number,
  kind: ElementKind,
  storage?: string,
  safetensors?: string,
  numpy?: string,
): TorchDTypeInfo => ({ name, itemsize, kind, storage, safetensors, numpy });

/** Every dtype picklejar reads, by name. */
export const TORCH_DTYPES: ReadonlyMap<string, TorchDTypeInfo> = new Map(
  [
    T('float64', 8, 'f64', 'DoubleStorage', 'F64', '<f8'),
    T('float32', 4, 'f32', 'FloatStorage', 'F32', '<f4'),
    T('float16', 2, 'f16', 'HalfStorage', 'F16', '<f2'),
    T('bfloat16', 2, 'bf16', 'BFloat16Storage', 'BF16'),
    T('int64', 8, 'i64', 'LongStorage', 'I64', '<i8'),
    T('int32', 4, 'i32', 'IntStorage', 'I32', '<i4'),
    T('int16', 2, 'i16', 'ShortStorage', 'I16', '<i2'),
    T('int8', 1, 'i8', 'CharStorage', 'I8', '|i1'),
    T('uint8', 1, 'u8', 'ByteStorage', 'U8', '|u1'),
    T('uint16', 2, 'u16', undefined, 'U16', '<u2'),
    T('uint32', 4, 'u32', undefined, 'U32', '<u4'),
    T('uint64', 8, 'u64', undefined, 'U64', '<u8'),
    T('bool', 1, 'bool', 'BoolStorage', 'BOOL', '|b1'),
    T('complex128', 16, 'c128', 'ComplexDoubleStorage', undefined, '<c16'),
    T('complex64', 8, 'c64', 'ComplexFloatStorage', 'C64', '<c8'),
    T('complex32', 4, 'c32', 'ComplexHalfStorage'),
    T('qint8', 1, 'i8', 'QInt8Storage'),
    T('quint8', 1, 'u8', 'QUInt8Storage'),
    T('qint32', 4, 'i32', 'QInt32Storage'),
    T('quint4x2', 1, 'q4x2', 'QUInt4x2Storage'),
    T('quint2x4', 1, 'q2x4', 'QUInt2x4Storage'),
    T('float8_e4m3fn', 1, 'e4m3fn', undefined, 'F8_E4M3'),
    T('float8_e5m2', 1, 'e5m2', undefined, 'F8_E5M2'),
    T('float8_e4m3fnuz', 1, 'e4m3fnuz'),
    T('float8_e5m2fnuz', 1, 'e5m2fnuz'),
    T('float8_e8m0fnu', 1, 'e8m0', undefined, 'F8_E8M0'),
    T('bits8', 1, 'u8'),
    T('bits16', 2, 'u16'),
    T('bits1x8', 1, 'u8'),
    T('bits2x4', 1, 'u8'),
    T('bits4x2', 1, 'u8'),
  ].map((d) => [d.name, d]),
);

/** torch's other names for the same dtypes (`torch.float` is `torch.float32`). */
export const DTYPE_ALIASES: Readonly<Record<string, string>> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  long: 'int64',
  int: 'int32',
  short: 'int16',
  cfloat: 'complex64',
  cdouble: 'complex128',
  chalf: 'complex32',
};

/** Storage class name (`FloatStorage`) → dtype name. */
export const STORAGE_DTYPES: ReadonlyMap<string, string> = new Map(
  [...TORCH_DTYPES.values()].filter((d) => d.storage !== undefined).map((d) => [d.storage as string, d.name]),
);

/** The dtype of a name or alias, or undefined. */
export function dtypeInfo(name: string): TorchDTypeInfo | undefined {
  return TORCH_DTYPES.get(DTYPE_ALIASES[name] ?? name);
}

/** Quantized dtypes: their values are integers to be dequantized. */
export function isQuantizedDType(name: string): boolean {
  return (
    name === 'qint8' || name === 'quint8' || name === 'qint32' || name === 'quint4x2' || name === 'quint2x4'
  );
}

/** Values per storage byte of the packed quantized types (1 for every other dtype). */
export function valuesPerByte(info: TorchDTypeInfo): number {
  return info.kind === 'q4x2' ? 2 : info.kind === 'q2x4' ? 4 : 1;
}

// ---------------------------------------------------------------------------------------------
// Narrow float formats → number
// ---------------------------------------------------------------------------------------------

function table(decode: (b: number) => number): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = decode(b);
  return t;
}

/** float8 with `e` exponent bits, `m` mantissa bits and `bias`; `inf`: IEEE infinities/NaNs at max exponent. */
function float8(e: number, m: number, bias: number, style: 'ieee' | 'fn' | 'fnuz'): (b: number) => number {
  return (b) => {
    const neg = (b & 0x80) !== 0;
    const exp = (b >> m) & ((1 << e) - 1);
    const man = b & ((1 << m) - 1);
    if (style === 'fnuz' && b === 0x80) return NaN;
    if (style === 'ieee' && exp === (1 << e) - 1) return man === 0 ? (neg ? -Infinity : Infinity) : NaN;
    if (style === 'fn' && exp === (1 << e) - 1 && man === (1 << m) - 1) return NaN;
    const v = exp === 0 ? man * 2 ** (1 - bias - m) : (1 + man / 2 ** m) * 2 ** (exp - bias);
    return neg ? -v : v;
  };
}

/** Per-byte value tables of the float8 formats (torch's definitions: e4m3fn has no infinities). */
export const FLOAT8_TABLES: Readonly<
  Record<'e4m3fn' | 'e4m3fnuz' | 'e5m2' | 'e5m2fnuz' | 'e8m0', Float32Array>
> = {
  e4m3fn: table(float8(4, 3, 7, 'fn')),
  e4m3fnuz: table(float8(4, 3, 8, 'fnuz')),
  e5m2: table(float8(5, 2, 15, 'ieee')),
  e5m2fnuz: table(float8(5, 2, 16, 'fnuz')),
  // e8m0fnu: a power of two 2^(b-127); 0xff is NaN.
  e8m0: table((b) => (b === 0xff ? NaN : 2 ** (b - 127))),
};

/** bfloat16 bits → number (the top half of a float32). */
export function bf16ToNumber(bits: number): number {
  BF16_U32[0] = bits << 16;
  return BF16_F32[0] as number;
}
const BF16_U32 = new Uint32Array(1);
const BF16_F32 = new Float32Array(BF16_U32.buffer);

/** number → bfloat16 bits (round to nearest even, NaN kept quiet). */
export function numberToBf16(x: number): number {
  BF16_F32[0] = x;
  const u = BF16_U32[0] as number;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}
