/**
 * Opening a file operand by path with `load(path)` (positioned reads, no whole-file buffer) instead of
 * reading it into memory first: the route for large files, torch/npz/safetensors containers and
 * `--lazy`. Lazy opens leave array and tensor payloads in the file until something reads them.
 */
import { statSync } from 'node:fs';
import { load } from '../load.js';
import { FileSource } from '../containers/file-source.js';
import { containerKind } from '../containers/torch-archive.js';
import { isSafetensors } from '../containers/safetensors.js';
import { detectJoblibCompression } from '../joblib/compress.js';
import { isNpy } from '../numpy/npy.js';
import type { LoadOptions } from '../unpickle/options.js';
import { COMPRESSION_NAMES } from './container.js';
import type { ContainerInfo } from './input.js';
import { errnoText, formatSize, InputError, type Status } from './read.js';
import { tensorContainerInfo } from './tensor-info.js';

/**
 * Files at least this large open lazily in `show` and `json` unless --no-lazy (PICKLEJAR_LAZY_FROM
 * overrides it: tests use small files). Below it a whole eager decode takes well under a second.
 */
export const LAZY_FROM = 64 << 20;

/** Bytes of the head searched for joblib's wrapper class name (joblib writes it before the first array). */
const HEAD = 1 << 20;

/** What a file is, from its size and first bytes (nothing decoded). */
export interface Probe {
  readonly path: string;
  readonly size: number;
  readonly head: Uint8Array;
  /** 'tensor': a zip archive, legacy torch file or safetensors file. */
  readonly kind: 'npy' | 'tensor' | 'compressed' | 'plain';
  /** Not a regular file (a FIFO, a device): only reading it whole works. */
  readonly regular: boolean;
}

/** Stat a file operand and read its head. Throws InputError when it cannot be read. */
export function probeFile(path: string): Probe {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  }
  if (st.isDirectory()) throw new InputError(`cannot read ${path}: is a directory`);
  if (!st.isFile()) return { path, size: st.size, head: new Uint8Array(0), kind: 'plain', regular: false };
  let head: Uint8Array;
  try {
    const src = FileSource.open(path);
    try {
      head = src.read(0, Math.min(src.size, HEAD));
    } finally {
      src.close();
    }
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  }
  const kind = isNpy(head)
    ? 'npy'
    : containerKind(head) === 'zip' || containerKind(head) === 'legacy-torch' || isSafetensors(head, st.size)
      ? 'tensor'
      : detectJoblibCompression(head) !== undefined
        ? 'compressed'
        : 'plain';
  return { path, size: st.size, head, kind, regular: true };
}

/** The lazy threshold: PICKLEJAR_LAZY_FROM (bytes) when set, else LAZY_FROM. */
export function lazyThreshold(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['PICKLEJAR_LAZY_FROM'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : LAZY_FROM;
}

/**
 * Whether a command decodes `probe` through `load(path)`: tensor containers always (their tensors are
 * read by offset), other files when lazy or at least the threshold (no whole-file buffer, past 4 GiB).
 */
export function usePath(probe: Probe, lazy: boolean): boolean {
  if (!probe.regular) return false;
  return probe.kind === 'tensor' || lazy || probe.size >= lazyThreshold();
}

/** What `show` prints on its first line, from the head alone (the unpacked size of compressed files is not known). */
function describeProbe(probe: Probe): ContainerInfo {
  const { size, head } = probe;
  if (probe.kind === 'npy')
    return { format: 'npy', compression: undefined, size, plainSize: size, protocol: undefined };
  if (probe.kind === 'tensor') {
    const src = FileSource.open(probe.path);
    try {
      const t = tensorContainerInfo(src);
      if (t !== undefined)
        return {
          format: t.format,
          compression: undefined,
          size,
          plainSize: size,
          protocol: t.protocol,
          parts: t.parts,
        };
    } finally {
      src.close();
    }
    return { format: 'pickle', compression: undefined, size, plainSize: size, protocol: undefined };
  }
  if (probe.kind === 'compressed') {
    const kind = detectJoblibCompression(head) as string;
    return {
      format: 'joblib',
      compression: COMPRESSION_NAMES[kind],
      size,
      plainSize: undefined,
      protocol: undefined,
    };
  }
  const joblib =
    Buffer.from(head.buffer, head.byteOffset, head.byteLength).indexOf('joblib.numpy_pickle', 0, 'latin1') >=
    0;
  return {
    format: joblib ? 'joblib' : 'pickle',
    compression: undefined,
    size,
    plainSize: size,
    protocol: head.length >= 2 && head[0] === 0x80 ? head[1] : undefined,
  };
}

/**
 * Decode a probed file with `load(path)`: lazily when `lazy` (arrays and tensors stored
 * uncompressed stay in the file until read), else everything now.
 */
export async function decodePath(
  probe: Probe,
  options: LoadOptions,
  lazy: boolean,
  name: string,
  status?: Status,
): Promise<{ value: unknown; info: ContainerInfo }> {
  const info = describeProbe(probe);
  const what = lazy ? 'opening' : probe.kind === 'compressed' ? 'decompressing and decoding' : 'reading';
  status?.(`${what} ${name} (${formatSize(probe.size)}${lazy ? ', lazily' : ''})`);
  const value = await load(probe.path, { ...options, ...(lazy ? { lazy: true } : {}) });
  return { value, info };
}
