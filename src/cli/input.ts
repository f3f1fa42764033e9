/**
 * The container an input is in (plain pickle, joblib, compressed joblib, .npy) and the decoded value. The library does the decoding; this module only
 * decides which entry point gets which bytes, so that a file is read and decompressed once.
 */
import { load, loads, loadsAll } from '../load.js';
import { COMPRESSION_NAMES } from './container.js';
import { decompressJoblib, detectJoblibCompression } from '../joblib/compress.js';
import { isNpy } from '../numpy/npy.js';
import { DEFAULT_LIMITS, type LoadOptions } from '../unpickle/options.js';
import { displayName, formatSize, type Input, type Status } from './read.js';
import { tensorContainerInfo, type TensorContainer } from './tensor-info.js';

/** What a buffer is, before decoding. */
export interface ContainerInfo {
  /**
   * 'npy', 'joblib' (numpy arrays written joblib's way, or a z-file), 'pickle', or a tensor
   * container ('torch', 'torchscript', 'legacy-torch', 'npz', 'safetensors').
   */
  readonly format: 'npy' | 'joblib' | 'pickle' | TensorContainer;
  /** Compressor name (zlib, gzip, bz2, lzma, xz, lz4, or 'z-file' for joblib < 0.10), if any. */
  readonly compression: string | undefined;
  /** Size on disk. */
  readonly size: number;
  /** Size after decompression (equal to `size` when uncompressed); undefined when not measured (large compressed files opened by path). */
  readonly plainSize: number | undefined;
  /** PROTO of the (first) pickle; undefined for protocol 0/1 streams (no header) and .npy. */
  readonly protocol: number | undefined;
  /** Tensor containers: the parts of their description (see tensor-info.ts). */
  readonly parts?: readonly string[];
}

function containsAscii(data: Uint8Array, text: string): boolean {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(text, 0, 'latin1') >= 0;
}

/** Old joblib (< 0.10) wrappers whose arrays live in side files next to the main file. */
function mentionsSideFiles(plain: Uint8Array): boolean {
  const b = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  for (
    let i = b.indexOf('NDArrayWrapper', 0, 'latin1');
    i >= 0;
    i = b.indexOf('NDArrayWrapper', i + 1, 'latin1')
  ) {
    // NumpyArrayWrapper (joblib >= 0.10) carries its data inline.
    if (i < 5 || b.toString('latin1', i - 5, i) !== 'Numpy') return true;
  }
  return false;
}

/**
 * The decompressed stream (or the input itself) and what kind of container held it. `status` hears
 * `decompressing …` before a compressed input is unpacked (the slow stage of big joblib files).
 */
export function unwrap(
  data: Uint8Array,
  status?: Status,
  name = '',
): { plain: Uint8Array; info: ContainerInfo } {
  if (isNpy(data)) {
    return {
      plain: data,
      info: {
        format: 'npy',
        compression: undefined,
        size: data.length,
        plainSize: data.length,
        protocol: undefined,
      },
    };
  }
  const tensor = tensorContainerInfo(data);
  if (tensor !== undefined) {
    return {
      plain: data,
      info: {
        format: tensor.format,
        compression: undefined,
        size: data.length,
        plainSize: data.length,
        protocol: tensor.protocol,
        parts: tensor.parts,
      },
    };
  }
  const kind = detectJoblibCompression(data);
  if (kind !== undefined)
    status?.(
      `decompressing ${name ? name + ' ' : ''}(${COMPRESSION_NAMES[kind]}, ${formatSize(data.length)})`,
    );
  const plain = decompressJoblib(data, DEFAULT_LIMITS.maxInputBytes) ?? data;
  const joblib = kind === 'zfile' || containsAscii(plain, 'joblib.numpy_pickle') || kind !== undefined;
  return {
    plain,
    info: {
      format: joblib ? 'joblib' : 'pickle',
      compression: kind === undefined ? undefined : COMPRESSION_NAMES[kind],
      size: data.length,
      plainSize: plain.length,
      protocol: plain.length >= 2 && plain[0] === 0x80 ? plain[1] : undefined,
    },
  };
}

/** One line describing the container: `joblib file, zlib-compressed, 868 bytes (1.4 KiB unpacked), protocol 4`. */
export function describeContainer(info: ContainerInfo): string {
  const parts: string[] = [];
  if (info.format === 'npy') return `.npy file, ${formatSize(info.size)}`;
  if (info.parts !== undefined) return info.parts.join(', ');
  let head = info.format === 'joblib' ? 'joblib file' : 'pickle';
  if (info.compression) head += `, ${info.compression}-compressed`;
  parts.push(head);
  parts.push(
    info.compression && info.plainSize !== undefined
      ? `${formatSize(info.size)} (${formatSize(info.plainSize)} unpacked)`
      : formatSize(info.size),
  );
  // A compressed file opened by path: its stream's first bytes were not looked at.
  if (info.compression === undefined || info.plainSize !== undefined)
    parts.push(info.protocol === undefined ? 'protocol 0/1 (no PROTO header)' : `protocol ${info.protocol}`);
  return parts.join(', ');
}

/**
 * Decode an input as `load` would. Files of the pre-0.10 joblib format go through `load(path)` so
 * their side files are found; everything else is decoded from the bytes already read.
 */
export async function decodeInput(
  input: Input,
  options: LoadOptions,
  status?: Status,
): Promise<{ value: unknown; info: ContainerInfo }> {
  const { plain, info } = unwrap(input.data, status, displayName(input.name));
  status?.(`decoding ${displayName(input.name)} (${formatSize(plain.length)})`);
  if (info.format !== 'joblib' && info.format !== 'pickle')
    return { value: loads(input.data, options), info };
  if (input.path !== undefined && (info.compression === 'z-file' || mentionsSideFiles(plain))) {
    return { value: await load(input.path, options), info };
  }
  return { value: loads(plain, options), info };
}

/**
 * Every pickle in the input, one after another (several `pickle.dump` calls into one file), as
 * `loadsAll` decodes them; inputs that are not plain pickle streams give their one value.
 */
export async function decodeAll(
  input: Input,
  options: LoadOptions,
  status?: Status,
): Promise<{ values: unknown[]; info: ContainerInfo }> {
  const { plain, info } = unwrap(input.data, status, displayName(input.name));
  if (
    (info.format !== 'joblib' && info.format !== 'pickle') ||
    (input.path !== undefined && (info.compression === 'z-file' || mentionsSideFiles(plain)))
  ) {
    const { value } = await decodeInput(input, options);
    return { values: [value], info };
  }
  status?.(`decoding ${displayName(input.name)} (${formatSize(plain.length)})`);
  return { values: loadsAll(plain, options), info };
}
