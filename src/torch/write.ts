/**
 * `dumpsTorch`: torch.save's zip archive (docs/FORMATS.md §8.1): `<prefix>/data.pkl` (protocol 2, storages
 * as persistent ids `('storage', <Class>Storage, key, 'cpu', numel)`), `<prefix>/byteorder`,
 * `<prefix>/data/<key>` (each storage once, 64-byte aligned), `<prefix>/version` (`3`). Tensors that
 * share a Storage object share one entry, as tied weights do in torch.
 */
import { encode } from '../pickle/encoder.js';
import type { DumpOptions } from '../pickle/options.js';
import { PyName } from '../pickle/reducers.js';
import { PyGlobal, Tuple } from '../python/values.js';
import { PicklingError } from '../errors.js';
import { ZipWriter, concatChunks } from '../containers/zip-write.js';
import { Storage } from './storage.js';
import { TORCH_DTYPES } from './dtypes.js';
import { torchReducer } from './reduce.js';

/** Options of `dumpsTorch` / `dumpTorch`. */
export interface TorchDumpOptions extends DumpOptions {
  /** The folder every entry lives under (torch uses the file's base name; default 'archive'). */
  readonly archiveName?: string;
}

/** What a streaming writer hears and uses (internal). */
export interface WriteHooks {
  readonly written?: (s: Storage) => void;
  readonly crc32?: (data: Uint8Array) => number;
}

/** Bytes of a storage in little-endian order (a swapped copy for storages read from big-endian archives). */
function littleBytes(s: Storage): Uint8Array {
  const b = s.bytes;
  if (s.byteOrder === 'little') return b;
  const info = TORCH_DTYPES.get(s.dtype);
  const kind = info?.kind;
  const size = info
    ? kind === 'c32' || kind === 'c64' || kind === 'c128'
      ? info.itemsize / 2
      : info.itemsize
    : 1;
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i += size)
    for (let k = 0; k < size; k++) out[i + k] = b[i + size - 1 - k] as number;
  return out;
}

/**
 * Write the archive entries of `value` to `sink` (the shared core of dumpsTorch and dumpTorch).
 * `hooks.written` hears each storage once its entry went out (a file converter releases it there);
 * `hooks.crc32` replaces the portable CRC-32 (Node writers pass zlib's).
 * @internal
 */
export function writeTorchArchive(
  value: unknown,
  options: TorchDumpOptions | undefined,
  sink: (chunk: Uint8Array) => void,
  hooks: WriteHooks = {},
): void {
  const prefix = options?.archiveName ?? 'archive';
  if (prefix === '' || /[/\\]/.test(prefix))
    throw new PicklingError(
      `archiveName ${JSON.stringify(prefix)} must be a plain folder name`,
      'options.archiveName',
      'invalid-value',
    );
  const keys = new Map<Storage, string>();
  const order: Storage[] = [];
  const storageStr = new PyName('storage');
  const cpu = new PyName('cpu');
  const userPid = options?.persistentId;
  const persistentId = (v: unknown): unknown => {
    if (v instanceof Storage) {
      let key = keys.get(v);
      if (key === undefined) {
        key = String(order.length);
        keys.set(v, key);
        order.push(v);
      }
      const info = TORCH_DTYPES.get(v.dtype);
      const typed = !v.untyped && info?.storage !== undefined;
      const cls = typed ? (info?.storage as string) : 'UntypedStorage';
      const numel = typed ? v.nbytes / (info?.itemsize as number) : v.nbytes;
      return Tuple.from_([storageStr, new PyGlobal('torch', cls), new PyName(key), cpu, BigInt(numel)]);
    }
    return userPid ? userPid(v) : undefined;
  };
  const pkl = encode(value, {
    ...options,
    protocol: options?.protocol ?? 2,
    persistentId,
    reducers: [...(options?.reducers ?? []), torchReducer],
  });
  const zip = new ZipWriter(sink, 'always', hooks.crc32);
  const enc = new TextEncoder();
  zip.add(`${prefix}/data.pkl`, pkl);
  zip.add(`${prefix}/byteorder`, enc.encode('little'));
  for (const s of order) {
    zip.add(`${prefix}/data/${keys.get(s) as string}`, littleBytes(s));
    hooks.written?.(s);
  }
  zip.add(`${prefix}/version`, enc.encode('3\n'));
  zip.finish();
}

/**
 * A torch.save zip archive of `value` that `torch.load` reads: tensors (`Tensor`, `Parameter`,
 * `QuantizedTensor`, `SparseTensor`) inside any picklable value. Values holding only tensors,
 * containers and plain values load with `torch.load(f, weights_only=True)`.
 * @example
 * const w = Tensor.fromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * const bytes = dumpsTorch({ weight: w, bias: Tensor.fromValues('float32', [0, 0]) });
 * // Python: torch.load(io.BytesIO(bytes), weights_only=True)
 */
export function dumpsTorch(value: unknown, options?: TorchDumpOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  writeTorchArchive(value, options, (c) => chunks.push(c));
  return concatChunks(chunks);
}
