/**
 * Reading the CLI's inputs: files or stdin (`-`), the container they are in (plain pickle, joblib,
 * compressed joblib, .npy), and the decoded value. The library does the decoding; this module only
 * decides which entry point gets which bytes, so that a file is read and decompressed once.
 */
import { open } from 'node:fs/promises';
import { load, loads } from '../index.js';
import { decompressJoblib, detectJoblibCompression } from '../joblib/compress.js';
import { isNpy } from '../numpy/npy.js';
import { DEFAULT_LIMITS, type LoadOptions } from '../unpickle/options.js';

/** Bytes of one input, and where they came from. */
export interface Input {
  /** As given on the command line (`-` for stdin). */
  readonly name: string;
  /** Set for files (not for stdin). */
  readonly path: string | undefined;
  readonly data: Uint8Array;
}

/** A failure to read an input (exit status 3). */
export class InputError extends Error {
  override name = 'InputError';
}

/** What a buffer is, before decoding. */
export interface ContainerInfo {
  /** 'npy', 'joblib' (numpy arrays written joblib's way, or a z-file), or 'pickle'. */
  readonly format: 'npy' | 'joblib' | 'pickle';
  /** Compressor name (zlib, gzip, bz2, lzma, xz, lz4, or 'z-file' for joblib < 0.10), if any. */
  readonly compression: string | undefined;
  /** Size on disk. */
  readonly size: number;
  /** Size after decompression (equal to `size` when uncompressed). */
  readonly plainSize: number;
  /** PROTO of the (first) pickle; undefined for protocol 0/1 streams (no header) and .npy. */
  readonly protocol: number | undefined;
}

export type Status = (text: string) => void;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
};

/** `no such file or directory` for a node errno error, its message otherwise. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code] as string;
  return e instanceof Error ? e.message : String(e);
}

export function formatSize(n: number): string {
  if (n < 10_000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** Read a whole file, reporting progress through `status` (chunks of 8 MiB). */
export async function readFileWithStatus(path: string, status: Status | undefined): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError(`cannot read ${path}: is a directory`);
    if (st.size > DEFAULT_LIMITS.maxInputBytes) {
      throw new InputError(
        `cannot read ${path}: ${formatSize(st.size)} is larger than the ${formatSize(DEFAULT_LIMITS.maxInputBytes)} input limit`,
      );
    }
    if (!st.isFile()) {
      // FIFOs and character devices: read until EOF.
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const buf = new Uint8Array(1 << 20);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        chunks.push(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (total > DEFAULT_LIMITS.maxInputBytes)
          throw new InputError(`cannot read ${path}: input larger than the input limit`);
      }
      return concat(chunks, total);
    }
    const out = new Uint8Array(st.size);
    const CHUNK = 8 << 20;
    let pos = 0;
    while (pos < out.length) {
      const { bytesRead } = await fh.read(out, pos, Math.min(CHUNK, out.length - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      status?.(`reading ${path}: ${formatSize(pos)} of ${formatSize(out.length)}`);
    }
    return pos === out.length ? out : out.subarray(0, pos);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  } finally {
    await fh.close();
  }
}

export function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** Read all of stdin into one buffer (pickle readers need random access). */
export async function readStdin(stream: NodeJS.ReadableStream, status?: Status): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const c = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
      chunks.push(c);
      total += c.length;
      if (total > DEFAULT_LIMITS.maxInputBytes)
        throw new InputError('cannot read stdin: input larger than the input limit');
      status?.(`reading stdin: ${formatSize(total)}`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read stdin: ${errnoText(e)}`);
  }
  return concat(chunks, total);
}

const COMPRESSION_NAMES: Record<string, string> = {
  zlib: 'zlib',
  gzip: 'gzip',
  bz2: 'bz2',
  lzma: 'lzma',
  xz: 'xz',
  lz4: 'lz4',
  zfile: 'z-file',
};

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

/** The decompressed stream (or the input itself) and what kind of container held it. */
export function unwrap(data: Uint8Array): { plain: Uint8Array; info: ContainerInfo } {
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
  const kind = detectJoblibCompression(data);
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

/** One line describing the container: `joblib, zlib-compressed (1.9 kB; 4.3 kB unpacked), protocol 4`. */
export function describeContainer(info: ContainerInfo): string {
  const parts: string[] = [];
  if (info.format === 'npy') return `.npy file, ${formatSize(info.size)}`;
  let head = info.format === 'joblib' ? 'joblib file' : 'pickle';
  if (info.compression) head += `, ${info.compression}-compressed`;
  parts.push(head);
  parts.push(
    info.compression
      ? `${formatSize(info.size)} (${formatSize(info.plainSize)} unpacked)`
      : formatSize(info.size),
  );
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
): Promise<{ value: unknown; info: ContainerInfo }> {
  const { plain, info } = unwrap(input.data);
  if (info.format === 'npy') return { value: loads(input.data, options), info };
  if (input.path !== undefined && (info.compression === 'z-file' || mentionsSideFiles(plain))) {
    return { value: await load(input.path, options), info };
  }
  return { value: loads(plain, options), info };
}
