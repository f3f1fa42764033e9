/**
 * Node-only: `load(path)` for files of any size. Nothing reads a whole file into one buffer:
 * - plain pickles and uncompressed joblib files are decoded through a window of positioned reads
 *   (src/unpickle/machine.ts), each array payload read straight into its own buffer, or, with
 *   `lazy`, left in the file until first used (joblib's mmap_mode);
 * - `.npy` files: the header, then the payload into its own buffer (or lazily);
 * - compressed joblib files past 8 MiB decompress while the decoder reads them
 *   (src/bytes/stream-source.ts: arrays filled from the stream, peak memory near the arrays' size);
 *   smaller ones decompress into chunks that the decoder consumes and releases as it goes;
 * - zip archives (torch, TorchScript, .npz) and legacy torch files: src/containers/node.ts.
 */
import { basename, dirname, join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { UnpicklingError } from './errors.js';
import { ChunkSource, readOwn, type ByteSource } from './bytes/source.js';
import { StreamSource, type Producer } from './bytes/stream-source.js';
import { inflateWorker } from './bytes/inflate-worker.js';
import { lzmaPieces } from './codecs/lzma.node.js';
import { lz4Pieces } from './codecs/lz4.js';
import { zstdPieces } from './codecs/zstd.js';
import { bz2Pieces } from './codecs/bz2.node.js';
import { explainNotAPickle } from './bytes/sniff.js';
import { codecFor } from './codecs/index.js';
import { FileSource } from './containers/file-source.js';
import { loadOpenContainer } from './containers/node.js';
import { containerKind } from './containers/torch-archive.js';
import { isSafetensors, loadsSafetensors } from './containers/safetensors.js';
import { familySet } from './families.js';
import type { FamilySet } from './family.js';
import { detectJoblibCompression, readZFile } from './joblib/compress.js';
import { isNpy, lazyNDArray, NDArray, parseNpyHeader, checkShape } from './numpy/index.js';
import { DEFAULT_LIMITS, type LoadOptions } from './unpickle/options.js';
import { unpickle, unpickleSource } from './unpickle/index.js';

type SiblingReader = (name: string) => Uint8Array | undefined;

/**
 * Compressed files larger than this decompress as the decoder reads; smaller
 * ones in one call (a worker's start, ~30 ms, is not worth it for them).
 */
const STREAM_FROM = 8 << 20;

/**
 * Read a file: a pickle, a joblib file (new format, or pre-0.10 with its `.npy` side files next to
 * it), a `.npy` or `.npz` file, a torch archive (torch.save, TorchScript, legacy).
 */
export async function loadPath(path: string, options: LoadOptions | undefined): Promise<unknown> {
  const families = familySet(options?.families);
  const src = FileSource.open(path);
  let closeNow = true;
  try {
    const head = src.read(0, Math.min(src.size, 1 << 16));
    if (src.size === 0)
      throw new UnpicklingError('pickle data was truncated (empty input)', 0, undefined, 'truncated');
    if (containerKind(head) !== undefined) {
      closeNow = false; // the container reader closes it (or keeps its path for lazy tensors)
      return loadOpenContainer(src, head, options, families);
    }
    if (isNpy(head)) return loadNpyFile(src, head, options, families);
    if (isSafetensors(head, src.size)) {
      // Each tensor is read from the file by offset; without `lazy`, all of them now.
      const st = loadsSafetensors(src);
      if (options?.lazy !== true) for (const t of st.tensors.values()) void t.storage?.bytes;
      return st;
    }
    const compression = detectJoblibCompression(head);
    if (compression === 'zfile') {
      const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
      return decodeBytes(
        readZFile(src.read(0, src.size), maxBytes),
        options,
        families,
        siblingReader(path, options),
        undefined,
      );
    }
    if (compression !== undefined && src.size > STREAM_FROM) {
      const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
      const producer = streamProducer(path, src, compression, maxBytes);
      if (producer !== undefined) {
        const stream = new StreamSource(producer, compression, maxBytes);
        try {
          return decodeBytes(stream, options, families, siblingReader(path, options), compression);
        } finally {
          stream.close();
        }
      }
    }
    if (compression !== undefined) {
      const chunks = decompressFile(src, compression, options);
      const input: ByteSource | Uint8Array =
        chunks.length === 1 ? (chunks[0] as Uint8Array) : new ChunkSource(chunks);
      // The source holds the chunks now: this array must not, or none could be freed as decoding
      // consumes them (a 1 GB stream then peaked at 2.1x its size instead of near 1x).
      chunks.length = 0;
      return decodeBytes(input, options, families, siblingReader(path, options), compression);
    }
    return decodeBytes(src, options, families, siblingReader(path, options), undefined);
  } finally {
    if (closeNow) src.close();
  }
}

function decodeBytes(
  input: ByteSource | Uint8Array,
  options: LoadOptions | undefined,
  families: FamilySet,
  readSibling: SiblingReader,
  compression: string | undefined,
): unknown {
  try {
    return input instanceof Uint8Array
      ? unpickle(input, options, families, readSibling)
      : unpickleSource(input, options, families, readSibling);
  } catch (e) {
    const head = input instanceof Uint8Array ? input : input.read(0, Math.min(input.size, 4096));
    throw explainNotAPickle(e, head, compression);
  }
}

/** A `.npy` file: object arrays are a pickle after the header; others a payload of known size. */
function loadNpyFile(
  src: FileSource,
  head: Uint8Array,
  options: LoadOptions | undefined,
  families: FamilySet,
): unknown {
  const h = parseNpyHeader(head);
  if (h.dtype.hasObject) {
    // np.load unpickles one pickle after the header (and ignores what follows).
    const body = src.read(h.dataOffset, src.size - h.dataOffset);
    return unpickle(body, options, families);
  }
  const need = checkShape(h.shape, h.dtype.itemsize) * h.dtype.itemsize;
  if (src.size - h.dataOffset < need) {
    throw new UnpicklingError(
      `invalid .npy file: data has ${src.size - h.dataOffset} bytes, shape needs ${need}`,
      h.dataOffset,
      undefined,
      'truncated',
    );
  }
  const order = h.fortranOrder ? 'F' : 'C';
  const shared = options?.sharedMemory === true;
  if (options?.lazy === true) {
    return lazyNDArray(h.dtype, h.shape, order, need, () => readOwn(src, h.dataOffset, need, shared));
  }
  return new NDArray({
    dtype: h.dtype,
    shape: h.shape,
    order,
    raw: readOwn(src, h.dataOffset, need, shared),
  });
}

/**
 * The pieces of a compressed file's stream as the decoder reads them (src/bytes/stream-source.ts):
 * zlib/gzip inflated by a worker, xz/lzma by liblzma, lz4, zstd and bz2 block by block, in step
 * with the decoder (bz2 from its compressed bytes in memory). Undefined for lz4 frames with a content
 * checksum, which decode whole (decompressFile).
 */
function streamProducer(path: string, src: FileSource, kind: string, maxBytes: number): Producer | undefined {
  if (kind === 'zlib' || kind === 'gzip') return inflateWorker(path, kind, maxBytes);
  if (kind === 'xz' || kind === 'lzma') return lzmaPieces((o, n) => src.read(o, n), src.size, kind === 'xz');
  if (kind === 'lz4') return lz4Pieces((o, n) => src.read(o, n), src.size);
  if (kind === 'zstd') return zstdPieces((o, n) => src.read(o, n), src.size, maxBytes);
  if (kind === 'bz2') return bz2Pieces(src.read(0, src.size), maxBytes);
  return undefined;
}

/**
 * A compressed joblib file's stream, as chunks (where the codec gives them) from one call: files up
 * to STREAM_FROM (and lz4 files with a content checksum).
 */
function decompressFile(
  src: FileSource,
  kind: 'zlib' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'lz4' | 'zstd',
  options: LoadOptions | undefined,
): Uint8Array[] {
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  const data = src.read(0, src.size);
  const codec = codecFor(kind, 'read');
  return codec.decodeChunks ? codec.decodeChunks(data, maxBytes) : [codec.decode(data, maxBytes)];
}

/** Old joblib files name their array files; only plain names in the same folder are honoured. */
function siblingReader(path: string, options: LoadOptions | undefined): SiblingReader {
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  const dir = dirname(path);
  return (name) => {
    const base = basename(name.replace(/\\/g, '/'));
    if (base !== name.replace(/\\/g, '/').split('/').pop() || base === '' || base === '.' || base === '..')
      return undefined;
    let sideSize: number;
    try {
      sideSize = statSync(join(dir, base)).size;
    } catch {
      return undefined;
    }
    if (sideSize > maxBytes) {
      throw new UnpicklingError(
        `side file ${base} of ${sideSize} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`,
        -1,
        undefined,
        'limit',
      );
    }
    try {
      const b = readFileSync(join(dir, base));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return undefined;
    }
  };
}
