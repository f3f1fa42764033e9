/**
 * safetensors (docs/FORMATS.md §8.7): u64 LE header length, a JSON header padded with spaces to a multiple
 * of 8, then one data buffer. Tensors are C-contiguous and little-endian; offsets are relative to the
 * data buffer, in order, without gaps.
 */
import { UnpicklingError, PicklingError } from '../errors.js';
import { Storage } from '../torch/storage.js';
import { Tensor, QuantizedTensor } from '../torch/tensor.js';
import { TORCH_DTYPES } from '../torch/dtypes.js';
import { MemorySource, type ByteSource } from '../bytes/source.js';
import { concatChunks } from './zip-write.js';
import { itemPath } from './item-path.js';

const MAX_HEADER = 100_000_000;
const BY_CODE = new Map(
  [...TORCH_DTYPES.values()].filter((d) => d.safetensors).map((d) => [d.safetensors as string, d]),
);

function bad(message: string): UnpicklingError {
  return new UnpicklingError(`invalid safetensors file: ${message}`, -1, undefined, 'corrupt');
}

/**
 * True when `data` starts like a safetensors file: a u64 LE header length that fits the input, then
 * a JSON object (`{`) that ends (after its space padding) with `}`. A pickle never starts so (its
 * first bytes would have to be zeros).
 * @example
 * isSafetensors(bytes) && loadsSafetensors(bytes)
 */
export function isSafetensors(data: Uint8Array, size = data.length): boolean {
  if (data.length < 10) return false;
  const n = Number(new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true));
  if (n < 2 || n > MAX_HEADER || 8 + n > size || data[8] !== 0x7b) return false;
  if (8 + n > data.length) return true; // only the start is at hand (a file's first bytes)
  let end = 8 + n - 1;
  while (end > 8 && data[end] === 0x20) end--;
  return data[end] === 0x7d;
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

/** Header layout of `tensors`: the items in file order and the padded header bytes. */
function layout(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Record<string, string> | undefined,
): { items: [string, Tensor][]; header: Uint8Array } {
  const items = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [
    string,
    Tensor,
  ][];
  for (const [name, t] of items) {
    const at = itemPath('root', name);
    if (!(t instanceof Tensor) || t instanceof QuantizedTensor || !TORCH_DTYPES.get(t.dtype)?.safetensors) {
      throw new PicklingError(
        `safetensors holds dense tensors of its dtypes only (not ${t instanceof Tensor ? t.dtype : typeof t})`,
        at,
        'invalid-value',
      );
    }
    if (!t.storage) throw new PicklingError(`a ${t.device} tensor, without data`, at, 'invalid-value');
  }
  items.sort((a, b) => b[1].itemsize - a[1].itemsize || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const head: Record<string, unknown> = {};
  if (metadata) head['__metadata__'] = metadata;
  let at = 0;
  for (const [name, t] of items) {
    const n = t.numel * t.itemsize;
    // A name '__metadata__' would collide with the metadata entry: setOwn-style define, and refuse.
    if (name === '__metadata__')
      throw new PicklingError(
        'a tensor cannot be named __metadata__ in safetensors',
        'root',
        'invalid-value',
      );
    Object.defineProperty(head, name, {
      value: { dtype: TORCH_DTYPES.get(t.dtype)?.safetensors, shape: t.shape, data_offsets: [at, at + n] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    at += n;
  }
  let json = JSON.stringify(head);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  json += ' '.repeat((8 - (hb.length % 8)) % 8);
  hb = enc.encode(json);
  const header = new Uint8Array(8 + hb.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(hb.length), true);
  header.set(hb, 8);
  return { items, header };
}

/**
 * Write a safetensors file of `tensors` to `sink`, chunk by chunk: the header (from shapes alone),
 * then each tensor's bytes in C order, little-endian. `written` hears each tensor once its bytes
 * went out (a file converter releases its storage there, so memory holds one tensor at a time).
 * @example
 * const chunks: Uint8Array[] = [];
 * writeSafetensors(new Map([['w', Tensor.fromValues('float32', [1, 2])]]), { format: 'pt' }, (c) => chunks.push(c));
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata: Record<string, string> | undefined,
  sink: (chunk: Uint8Array) => void,
  written?: (t: Tensor) => void,
): void {
  const { items, header } = layout(tensors, metadata);
  sink(header);
  for (const [, t] of items) {
    const bytes = t.bytes();
    if (bytes.length > 0) sink(bytes);
    written?.(t);
  }
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
  const chunks: Uint8Array[] = [];
  writeSafetensors(tensors, metadata, (c) => chunks.push(c));
  return concatChunks(chunks);
}
