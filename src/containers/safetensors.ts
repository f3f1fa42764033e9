/**
 * safetensors (FORMATS.md §8.7): u64 LE header length, a JSON header padded with spaces to a multiple
 * of 8, then one data buffer. Tensors are C-contiguous and little-endian; offsets are relative to the
 * data buffer, in order, without gaps.
 */
import { UnpicklingError, PicklingError } from '../errors.js';
import { Storage } from '../torch/storage.js';
import { Tensor, SparseTensor } from '../torch/tensor.js';
import { TORCH_DTYPES } from '../torch/dtypes.js';
import { MemorySource, type ByteSource } from '../bytes/source.js';
import { concatChunks } from './zip-write.js';

const MAX_HEADER = 100_000_000;
const BY_CODE = new Map(
  [...TORCH_DTYPES.values()].filter((d) => d.safetensors).map((d) => [d.safetensors as string, d]),
);

function bad(message: string): UnpicklingError {
  return new UnpicklingError(`invalid safetensors file: ${message}`, -1, undefined, 'corrupt');
}

/** A decoded safetensors file. */
export interface Safetensors {
  readonly tensors: Map<string, Tensor>;
  /** The `__metadata__` string map, or null. */
  readonly metadata: Record<string, string> | null;
}

/**
 * Read a safetensors file from bytes or a source (each tensor's bytes are read when first used).
 * @example
 * const { tensors } = loadsSafetensors(bytes); tensors.get('weight')?.toNested()
 */
export function loadsSafetensors(input: Uint8Array | ByteSource): Safetensors {
  const src = input instanceof Uint8Array ? new MemorySource(input) : input;
  if (src.size < 8) throw bad('shorter than its 8-byte header length');
  const lenBytes = src.read(0, 8);
  const n = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > src.size) throw bad(`header length ${n} is too large`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, n)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad('header is not an object');
  const base = 8 + n;
  const dataSize = src.size - base;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> | null = null;
  for (const [name, spec] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = spec as Record<string, string>;
      continue;
    }
    const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const info = typeof s.dtype === 'string' ? BY_CODE.get(s.dtype) : undefined;
    if (!info) throw bad(`tensor ${name} has unsupported dtype ${String(s.dtype)}`);
    const offs = s.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((x) => Number.isSafeInteger(x) && x >= 0) ||
      offs[0] > offs[1] ||
      offs[1] > dataSize
    ) {
      throw bad(`tensor ${name} has bad data_offsets`);
    }
    const [begin, end] = offs as [number, number];
    if (!Array.isArray(s.shape)) throw bad(`tensor ${name} has no shape`);
    const storage = new Storage({
      dtype: info.name,
      nbytes: end - begin,
      key: name,
      load: () => src.read(base + begin, end - begin),
    });
    let t: Tensor;
    try {
      t = new Tensor({ dtype: info.name, shape: s.shape as number[], storage });
    } catch (e) {
      throw bad(`tensor ${name}: ${(e as Error).message}`);
    }
    if (t.numel * info.itemsize !== end - begin)
      throw bad(`tensor ${name} has ${end - begin} bytes for ${t.numel} elements`);
    tensors.set(name, t);
  }
  return { tensors, metadata };
}

/**
 * A safetensors file of `tensors` (written contiguous, little-endian; largest element size first,
 * then by name, as the reference writer orders them).
 * @example
 * dumpsSafetensors({ w: Tensor.fromValues('float32', [1, 2]) }, { format: 'pt' })
 */
export function dumpsSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Record<string, string>,
): Uint8Array {
  const items = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [
    string,
    Tensor,
  ][];
  for (const [name, t] of items) {
    if (!(t instanceof Tensor) || !TORCH_DTYPES.get(t.dtype)?.safetensors) {
      throw new PicklingError(
        `${name}: safetensors holds dense tensors of its dtypes only (not ${t instanceof Tensor ? t.dtype : typeof t})`,
        `root.${name}`,
        'invalid-value',
      );
    }
    if (!t.storage)
      throw new PicklingError(`${name}: a tensor without data`, `root.${name}`, 'invalid-value');
  }
  items.sort((a, b) => b[1].itemsize - a[1].itemsize || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const head: Record<string, unknown> = {};
  if (metadata) head['__metadata__'] = metadata;
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of items) {
    const bytes = t.bytes();
    head[name] = {
      dtype: TORCH_DTYPES.get(t.dtype)?.safetensors,
      shape: t.shape,
      data_offsets: [at, at + bytes.length],
    };
    chunks.push(bytes);
    at += bytes.length;
  }
  let json = JSON.stringify(head);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  json += ' '.repeat((8 - (hb.length % 8)) % 8);
  hb = enc.encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(hb.length), true);
  return concatChunks([len, hb, ...chunks]);
}

/**
 * The tensors of a torch value as safetensors wants them, as Hugging Face's converter does: unwrap
 * `{'state_dict': …}`, keep one name per shared storage (the others are recorded in the metadata as
 * removed → kept), make every tensor contiguous.
 * @example
 * const { tensors, metadata } = torchToSafetensors(loads(ptBytes)); dumpsSafetensors(tensors, metadata)
 */
export function torchToSafetensors(value: unknown): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  let v = value;
  const get = (o: unknown, k: string): unknown =>
    o instanceof Map
      ? o.get(k)
      : o !== null && typeof o === 'object'
        ? (o as Record<string, unknown>)[k]
        : undefined;
  if (get(v, 'state_dict') !== undefined) v = get(v, 'state_dict');
  const entries =
    v instanceof Map ? [...v.entries()] : v !== null && typeof v === 'object' ? Object.entries(v) : [];
  const metadata: Record<string, string> = { format: 'pt' };
  const byStorage = new Map<Storage, string[]>();
  const all = new Map<string, Tensor>();
  for (const [k, t] of entries) {
    if (t instanceof SparseTensor)
      throw new PicklingError(
        `${String(k)} is sparse: safetensors holds dense tensors`,
        `root.${String(k)}`,
        'invalid-value',
      );
    if (!(t instanceof Tensor) || !t.storage) continue;
    all.set(String(k), t);
    const g = byStorage.get(t.storage) ?? [];
    g.push(String(k));
    byStorage.set(t.storage, g);
  }
  for (const names of byStorage.values()) {
    if (names.length < 2) continue;
    // Keep a name whose tensor covers its whole storage (first in sorted order), else the first.
    const sorted = [...names].sort();
    const complete = sorted.filter((n) => {
      const t = all.get(n) as Tensor;
      return t.storageOffset === 0 && t.numel * t.itemsize === t.storage?.nbytes;
    });
    const keep = complete[0] ?? (sorted[0] as string);
    for (const n of sorted)
      if (n !== keep) {
        metadata[n] = keep;
        all.delete(n);
      }
  }
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of all) tensors.set(k, t.contiguous());
  return { tensors, metadata };
}
