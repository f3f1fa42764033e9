/**
 * Conversions between the tensor formats (torch archives, safetensors, .npz) on decoded values: which
 * named tensors a value holds (a state dict, a checkpoint wrapping one, a dict of arrays), and tensors
 * ↔ numpy arrays. Nothing here reads a tensor's bytes: storages stay lazy until a writer asks for
 * them, so a file-to-file conversion (convert-file.ts) holds one tensor at a time.
 */
import { PicklingError, UnpicklingError } from '../errors.js';
import { PyObject, isPlainObject } from '../python/values.js';
import { OrderedDict } from '../python/stdlib.js';
import { DType } from '../numpy/dtype.js';
import { NDArray } from '../numpy/ndarray.js';
import { Storage } from '../torch/storage.js';
import { QuantizedTensor, SparseTensor, Tensor, contiguousStrides } from '../torch/tensor.js';
import { TORCH_DTYPES } from '../torch/dtypes.js';
import { isNpy, parseNpyHeader } from '../numpy/npy.js';
import { writeTorchArchive } from '../torch/write.js';
import type { Protocol } from '../pickle/options.js';
import { TorchScriptArchive } from './torchscript-archive.js';
import { writeSafetensors } from './safetensors.js';
import { itemPath } from './item-path.js';
import { npyParts } from './npz.js';
import { ZipWriter } from './zip-write.js';
import type { ZipEntry, ZipReader } from './zip.js';

/** torch dtype of each numpy typestr that has one (little-endian forms). */
const TORCH_OF_NUMPY = new Map(
  [...TORCH_DTYPES.values()]
    .filter((d) => d.numpy !== undefined && !d.name.startsWith('q') && !d.name.startsWith('bits'))
    .map((d) => [d.numpy as string, d.name]),
);

function refuse(message: string, path: string): PicklingError {
  return new PicklingError(message, path, 'invalid-value');
}

/** What a value is, in a refusal message. */
function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'bigint' || typeof v === 'number') return `a number (${String(v)})`;
  if (typeof v === 'string') return 'a str';
  if (typeof v === 'boolean') return 'a bool';
  if (v instanceof PyObject) return `a ${v.__qualname__} object`;
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof NDArray) return `a numpy array of ${v.dtype.name}`;
  return `a ${(v as object).constructor?.name ?? 'value'}`;
}

/**
 * A numpy array as a tensor over the same bytes (no copy for little-endian arrays; Fortran order
 * becomes strides). Refuses dtypes torch has no equivalent for (str, object, records, datetimes).
 * @example
 * ndarrayToTensor(NDArray.fromTypedArray(new Float32Array([1, 2]))).dtype // 'float32'
 */
export function ndarrayToTensor(a: NDArray, path = 'root'): Tensor {
  const native = a.dtype.isNativeOrder ? a : a.toNative();
  // Native order on the little-endian hosts Tensor needs; |b1, |u1, |i1 as they are.
  const dtype = native.objects === null ? TORCH_OF_NUMPY.get(native.dtype.str) : undefined;
  if (dtype === undefined || native.dtype.names !== null || native.dtype.subarray !== null)
    throw refuse(`a numpy array of ${a.dtype.name}: torch has no such dtype`, path);
  const shape = [...native.shape];
  const stride =
    native.order === 'F' && shape.length > 1 ? contiguousStrides([...shape].reverse()).reverse() : undefined;
  const storage = new Storage({ dtype, nbytes: native.raw.length, bytes: native.raw });
  return new Tensor({ dtype, shape, ...(stride ? { stride } : {}), storage });
}

/**
 * A dense tensor as a numpy array (C order, little-endian; a view of the storage when the tensor is
 * contiguous). Refuses what numpy cannot hold: bfloat16, float8, complex32, quantized and sparse
 * tensors, tensors without data.
 * @example
 * tensorToNDArray(Tensor.fromValues('int64', [1n, 2n])).dtype.str // '<i8'
 */
export function tensorToNDArray(t: Tensor, path = 'root'): NDArray {
  checkDense(t, path);
  const numpy = TORCH_DTYPES.get(t.dtype)?.numpy;
  if (numpy === undefined || t instanceof QuantizedTensor)
    throw refuse(`a ${t.dtype} tensor: numpy has no such dtype`, path);
  return new NDArray({ dtype: DType.builtin(numpy), shape: [...t.shape], raw: t.bytes() });
}

function checkDense(t: unknown, path: string): asserts t is Tensor {
  if (t instanceof SparseTensor) throw refuse(`a ${t.layout} tensor: only dense tensors convert`, path);
  if (!(t instanceof Tensor)) throw refuse(`${describeValue(t)}, not a tensor`, path);
  if (!t.storage) throw refuse(`a ${t.device} tensor, without data`, path);
}

/** The named values of a dict (Map, plain object, OrderedDict), or undefined for anything else. */
function dictEntries(v: unknown): [unknown, unknown][] | undefined {
  if (v instanceof Map) return [...v.entries()];
  if (isPlainObject(v)) return Object.entries(v);
  return undefined;
}

/** Why `value` is not a dict of tensors, with a hint when it is a whole model or a TorchScript file. */
function notADict(value: unknown, path: string): PicklingError {
  if (value instanceof TorchScriptArchive)
    return refuse(
      'a TorchScript archive (a module with code), not a dict of tensors; save its state_dict() instead',
      path,
    );
  if (value instanceof PyObject && value['_parameters'] !== undefined)
    return refuse(
      `a whole ${value.__qualname__} module, not a dict of tensors; save model.state_dict() instead`,
      path,
    );
  return refuse(`${describeValue(value)}, not a dict of named tensors or arrays`, path);
}

/**
 * The dict of named tensors or arrays a value holds, as Hugging Face's converter finds it: the value
 * itself, or its `'state_dict'` entry (checkpoints). Refuses anything else, naming the path.
 * @example
 * stateDictOf({ state_dict: sd, epoch: 3 }) // { entries: [...sd], path: "root['state_dict']" }
 */
function stateDictOf(value: unknown): { entries: [string, unknown][]; path: string } {
  let v = value;
  let path = 'root';
  const top = dictEntries(v);
  const inner = top?.find(([k]) => k === 'state_dict');
  if (inner !== undefined && dictEntries(inner[1]) !== undefined) {
    v = inner[1];
    path = itemPath(path, 'state_dict');
  }
  const entries = dictEntries(v);
  if (entries === undefined) throw notADict(v, path);
  return {
    entries: entries.map(([k, x]) => {
      if (typeof k !== 'string')
        throw refuse(`the key ${String(k)} is not a str; tensor names are strings`, path);
      return [k, x];
    }),
    path,
  };
}

/** Same storage, dtype, offset, shape, strides and bits: the same values (tied weights). */
function viewKey(t: Tensor): string {
  return `${t.dtype}|${t.storageOffset}|${t.shape.join(',')}|${t.stride.join(',')}|${t.conj}|${t.neg}`;
}

/**
 * The tensors of a value for a safetensors file: the state dict (see `stateDictOf`), numpy arrays
 * turned into tensors, and tensors that are the same view of one storage (tied weights) kept once
 * under their first name in sorted order, the others recorded in the metadata as `removed → kept` as
 * Hugging Face's converter does. Tensors that share a storage but differ (slices, transposes) are
 * each kept. Refuses values safetensors cannot hold, naming their path. Tensors are not made
 * contiguous here (a writer reads each one's bytes in C order when it writes it).
 * @example
 * const { tensors, metadata } = safetensorsPlan(loads(ptBytes));
 */
export function safetensorsPlan(value: unknown): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const { entries, path } = stateDictOf(value);
  const all = new Map<string, Tensor>();
  const groups = new Map<Storage, Map<string, string[]>>();
  for (const [k, x] of entries) {
    const at = itemPath(path, k);
    const t = x instanceof NDArray ? ndarrayToTensor(x, at) : x;
    checkDense(t, at);
    if (t instanceof QuantizedTensor || !TORCH_DTYPES.get(t.dtype)?.safetensors)
      throw refuse(`a ${t.dtype} tensor: safetensors has no such dtype`, at);
    all.set(k, t);
    const storage = t.storage as Storage;
    let byView = groups.get(storage);
    if (!byView) groups.set(storage, (byView = new Map()));
    const key = viewKey(t);
    const names = byView.get(key) ?? [];
    names.push(k);
    byView.set(key, names);
  }
  const metadata: Record<string, string> = { format: 'pt' };
  for (const byView of groups.values())
    for (const names of byView.values()) {
      if (names.length < 2) continue;
      const [keep, ...drop] = [...names].sort();
      for (const n of drop) {
        metadata[n] = keep as string;
        all.delete(n);
      }
    }
  return { tensors: all, metadata };
}

/**
 * The state dict a `.pt` file written from named tensors holds: an OrderedDict name → tensor, with
 * the names a safetensors file recorded as removed (`removed → kept` in its metadata) restored as the
 * same tensor, so tied weights come back tied.
 * @example
 * dumpsTorch(stateDictFromTensors(loadsSafetensors(bytes)))
 */
export function stateDictFromTensors(
  tensors: ReadonlyMap<string, Tensor | NDArray>,
  metadata: Readonly<Record<string, string>> | null = null,
): OrderedDict<string, Tensor> {
  const out = new OrderedDict<string, Tensor>();
  for (const [k, t] of tensors)
    out.set(k, t instanceof NDArray ? ndarrayToTensor(t, itemPath('root', k)) : t);
  if (metadata)
    for (const [removed, kept] of Object.entries(metadata)) {
      const t = out.get(kept);
      if (removed !== 'format' && t !== undefined && !out.has(removed)) out.set(removed, t);
    }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lazy .npz reading: each array a tensor whose bytes are read (inflated) when written
// ---------------------------------------------------------------------------------------------

/** The bytes of an npy entry's header: enough of a stored entry, or the whole inflated entry. */
function npyHead(zip: ZipReader, e: ZipEntry, maxBytes: number): Uint8Array {
  if (e.method !== 0) return zip.read(e, maxBytes);
  const at = zip.dataOffset(e);
  const pre = zip.source.read(at, Math.min(e.size, 12));
  if (pre.length < 10 || !isNpy(pre)) return pre;
  const v = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const need = pre[6] === 1 ? 10 + v.getUint16(8, true) : 12 + (pre.length >= 12 ? v.getUint32(8, true) : 0);
  return zip.source.read(at, Math.min(e.size, need));
}

/**
 * The arrays of an `.npz` archive as an OrderedDict name → tensor whose bytes are read from the
 * archive when first used (and again after `Storage.release()`), so converting a large .npz holds
 * one array at a time. Arrays torch has no dtype for (str, records, objects) are read whole as
 * NDArrays (a converter then refuses them by name). `decodeObjects` decodes object arrays' pickles.
 * @example
 * const sd = lazyNpzTensors(ZipReader.open(src), DEFAULT_LIMITS.maxInputBytes, (b) => loads(b));
 */
export function lazyNpzTensors(
  zip: ZipReader,
  maxBytes: number,
  decode: (npyBytes: Uint8Array) => unknown,
): OrderedDict<string, Tensor | unknown> {
  const out = new OrderedDict<string, Tensor | unknown>();
  for (const e of zip.entries) {
    const name = e.name.slice(0, -4);
    const head = npyHead(zip, e, maxBytes);
    if (!isNpy(head))
      throw new UnpicklingError(`npz entry ${e.name} is not a .npy file`, -1, undefined, 'corrupt');
    const h = parseNpyHeader(head);
    const native = h.dtype.isNativeOrder ? h.dtype : h.dtype.withByteOrder('<');
    const dtype = h.dtype.hasObject ? undefined : TORCH_OF_NUMPY.get(native.str);
    if (dtype === undefined || h.dtype.names !== null || h.dtype.subarray !== null) {
      out.set(name, decode(head.length === e.size ? head : zip.read(e, maxBytes)));
      continue;
    }
    const shape = h.shape;
    const nbytes = shape.reduce((a, b) => a * b, 1) * h.dtype.itemsize;
    if (h.dataOffset + nbytes > e.size)
      throw new UnpicklingError(
        `npz entry ${e.name} is shorter than its shape needs`,
        -1,
        undefined,
        'truncated',
      );
    const start = h.dataOffset;
    const storage = new Storage({
      dtype,
      nbytes,
      key: name,
      byteOrder: h.dtype.byteorder === '>' ? 'big' : 'little',
      load: () =>
        e.method === 0
          ? zip.source.read(zip.dataOffset(e) + start, nbytes)
          : zip.read(e, maxBytes).subarray(start, start + nbytes),
    });
    const stride =
      h.fortranOrder && shape.length > 1 ? contiguousStrides([...shape].reverse()).reverse() : undefined;
    out.set(name, new Tensor({ dtype, shape, ...(stride ? { stride } : {}), storage }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Streaming writers of the three tensor formats
// ---------------------------------------------------------------------------------------------

/** A tensor file format picklejar writes. */
export type TensorFormat = 'pt' | 'safetensors' | 'npz';

/** Options of `writeTensorFormat`. */
export interface TensorFormatOptions {
  /** safetensors: the metadata to write (default: the plan's `{format: 'pt', removed: kept…}`). */
  readonly metadata?: Record<string, string>;
  /** npz: deflate the entries (np.savez_compressed). */
  readonly compress?: boolean;
  /** pt: the archive's folder name. */
  readonly archiveName?: string;
  /** pt: the pickle protocol of data.pkl (default 2, as torch.save). */
  readonly protocol?: Protocol;
  /** pt: how data.pkl is written (`allowGlobals` to write foreign objects back, `lossless`). */
  readonly allowGlobals?: boolean;
  readonly lossless?: boolean;
  /** Called after each tensor or storage went out; a file converter releases storages there. */
  readonly written?: (s: Storage) => void;
  /** pt and npz: the CRC-32 of the zip entries (Node converters pass zlib's). */
  readonly crc32?: (data: Uint8Array) => number;
}

/** Check that every entry can become a numpy array, before anything is written. */
function checkNpz(entries: readonly [string, unknown][], path: string): void {
  for (const [k, x] of entries) {
    if (x instanceof NDArray) continue;
    const at = itemPath(path, k);
    checkDense(x, at);
    if (x instanceof QuantizedTensor || TORCH_DTYPES.get(x.dtype)?.numpy === undefined)
      throw refuse(`a ${x.dtype} tensor: numpy has no such dtype`, at);
  }
}

/**
 * Write `value` as a `.pt` archive, a safetensors file or an `.npz` to `sink`, chunk by chunk: pt
 * writes any value torch.save could (see `dumpsTorch`); safetensors and npz need a dict of tensors or
 * arrays (see `safetensorsPlan`, `stateDictOf`). Each tensor's bytes are read when written, so with
 * lazy storages and `written: (s) => s.release()` memory holds one tensor at a time. Refusals are
 * PicklingErrors naming the path, thrown before the first chunk.
 * @example
 * const chunks: Uint8Array[] = [];
 * writeTensorFormat({ w: Tensor.fromValues('float32', [1, 2]) }, 'safetensors', (c) => chunks.push(c));
 */
export function writeTensorFormat(
  value: unknown,
  format: TensorFormat,
  sink: (chunk: Uint8Array) => void,
  options: TensorFormatOptions = {},
): void {
  const written = options.written;
  if (format === 'pt') {
    if (value instanceof TorchScriptArchive) throw notADict(value, 'root');
    writeTorchArchive(
      value,
      {
        ...(options.archiveName !== undefined ? { archiveName: options.archiveName } : {}),
        ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
        ...(options.allowGlobals !== undefined ? { allowGlobals: options.allowGlobals } : {}),
        ...(options.lossless !== undefined ? { lossless: options.lossless } : {}),
      },
      sink,
      { ...(written ? { written } : {}), ...(options.crc32 ? { crc32: options.crc32 } : {}) },
    );
    return;
  }
  if (format === 'safetensors') {
    const plan = safetensorsPlan(value);
    writeSafetensors(plan.tensors, options.metadata ?? plan.metadata, sink, (t) => {
      if (t.storage) written?.(t.storage);
    });
    return;
  }
  const { entries, path } = stateDictOf(value);
  checkNpz(entries, path);
  const zip = new ZipWriter(sink, 'auto', options.crc32);
  for (const [k, x] of entries) {
    const a = x instanceof NDArray ? x : tensorToNDArray(x as Tensor, itemPath(path, k));
    zip.add(`${k}.npy`, npyParts(a), { compress: options.compress === true, align: 1 });
    if (x instanceof Tensor && x.storage) written?.(x.storage);
  }
  zip.finish();
}

/**
 * The path of the first torch tensor, storage or TorchScript archive inside `value` (depth first),
 * or undefined: pickle and joblib output cannot carry them (they need a torch archive around them).
 * @example
 * tensorPath(loads(ptBytes)) // "root['emb.weight']"
 */
export function tensorPath(value: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[value, 'root']];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (
      v instanceof Tensor ||
      v instanceof SparseTensor ||
      v instanceof Storage ||
      v instanceof TorchScriptArchive
    )
      return path;
    const next: [unknown, string][] = [];
    if (v instanceof Map)
      for (const [k, x] of v)
        next.push([x, typeof k === 'string' ? itemPath(path, k) : `${path}[${String(k)}]`]);
    else if (Array.isArray(v)) v.forEach((x, i) => next.push([x, `${path}[${i}]`]));
    else if (v instanceof Set) for (const x of v) next.push([x, `${path}{…}`]);
    else if (v instanceof NDArray) (v.objects ?? []).forEach((x, i) => next.push([x, `${path}.flat[${i}]`]));
    else if (isPlainObject(v) || v instanceof PyObject) {
      for (const k of Object.keys(v))
        next.push([(v as Record<string, unknown>)[k], isPlainObject(v) ? itemPath(path, k) : `${path}.${k}`]);
      if (v instanceof PyObject) {
        next.push([v.__state__, `${path}.__state__`]);
        (v.__args__ ?? []).forEach((x, i) => next.push([x, `${path}.__args__[${i}]`]));
      }
    }
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i] as [unknown, string]);
  }
  return undefined;
}

/**
 * The tensors of a torch value as safetensors wants them, as Hugging Face's converter does: unwrap
 * `{'state_dict': …}`, keep one name of tensors that are the same view of one storage (tied weights;
 * the others are recorded in the metadata as removed → kept), make every tensor contiguous. numpy
 * arrays in the dict become tensors; anything safetensors cannot hold (a whole model, non-tensor
 * values, sparse or quantized tensors) is refused with a PicklingError naming its path.
 * @example
 * const { tensors, metadata } = torchToSafetensors(loads(ptBytes)); dumpsSafetensors(tensors, metadata)
 */
export function torchToSafetensors(value: unknown): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = safetensorsPlan(value);
  for (const [k, t] of tensors) tensors.set(k, t.contiguous());
  return { tensors, metadata };
}
