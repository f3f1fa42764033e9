/**
 * Node-only: file-to-file conversion between `.pt`, safetensors and `.npz` with memory bounded by the
 * largest tensor, not the file: the input's structure is read (the torch archive's data.pkl, the
 * safetensors header, the npz headers), then each tensor's bytes are read by position, written to a
 * temporary file, and let go; the output is renamed into place only once complete.
 */
import { basename } from 'node:path';
import { writeFileAtomicStreamingSync } from '../bytes/atomic.js';
import { UnpicklingError } from '../errors.js';
import { DEFAULT_LIMITS, type LoadOptions } from '../unpickle/options.js';
import { familySet } from '../families.js';
import { isNpy, readNpy } from '../numpy/npy.js';
import { unpickle } from '../unpickle/index.js';
import type { Storage } from '../torch/storage.js';
import type { Protocol } from '../pickle/options.js';
import { nativeCrc32 } from '../torch/write-file.js';
import { FileSource } from './file-source.js';
import { containerKind, loadLegacyTorch, loadZip, sniffZip } from './torch-archive.js';
import { ZipReader } from './zip.js';
import { isSafetensors, loadsSafetensors } from './safetensors.js';
import {
  lazyNpzTensors,
  stateDictFromTensors,
  writeTensorFormat,
  type TensorFormat,
  type TensorFormatOptions,
} from './convert.js';

/** What kind of tensor file an input is. */
export type TensorFileKind = 'torch' | 'torchscript' | 'legacy-torch' | 'npz' | 'safetensors';

/** A tensor file opened for conversion; close it when done. */
export interface OpenedTensorFile {
  readonly kind: TensorFileKind;
  /**
   * The value, storages read by position when used: a torch file's object, an npz's OrderedDict
   * name → tensor, a safetensors file's state dict (tied names restored from its metadata).
   */
  readonly value: unknown;
  /** safetensors: the file's `__metadata__`. */
  readonly metadata: Record<string, string> | null;
  close(): void;
}

/**
 * Open `path` when it is a torch archive, a legacy torch file, an `.npz` or a safetensors file;
 * undefined for anything else (read it with `load`). Zip and safetensors files are read by position:
 * nothing but their structure is in memory until a tensor's bytes are used. Legacy torch files are
 * read whole (their storages follow the pickles without an index).
 * @example
 * const f = openTensorFile('model.pt'); try { use(f.value); } finally { f?.close(); }
 */
export function openTensorFile(path: string, options?: LoadOptions): OpenedTensorFile | undefined {
  const src = FileSource.open(path);
  try {
    const head = src.read(0, Math.min(src.size, 512));
    const cx = { options, families: familySet(options?.families) };
    const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
    const opened = (
      kind: TensorFileKind,
      value: unknown,
      metadata: Record<string, string> | null = null,
    ): OpenedTensorFile => ({
      kind,
      value,
      metadata,
      close: () => src.close(),
    });
    if (isSafetensors(head, src.size)) {
      const st = loadsSafetensors(src);
      return opened('safetensors', stateDictFromTensors(st.tensors, st.metadata), st.metadata);
    }
    const kind = containerKind(head);
    if (kind === 'zip') {
      const zip = ZipReader.open(src);
      const z = sniffZip(zip).kind;
      if (z === 'npz') {
        const decode = (b: Uint8Array): unknown => {
          if (!isNpy(b)) throw new UnpicklingError('npz entry is not a .npy file', -1, undefined, 'corrupt');
          return readNpy(b, (p) => unpickle(p, options, cx.families));
        };
        return opened('npz', lazyNpzTensors(zip, maxBytes, decode));
      }
      return opened(z === 'torchscript' ? 'torchscript' : 'torch', loadZip(zip, cx));
    }
    if (kind === 'legacy-torch') {
      if (src.size > maxBytes)
        throw new UnpicklingError(
          `file of ${src.size} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`,
          -1,
          undefined,
          'limit',
        );
      return opened('legacy-torch', loadLegacyTorch(src.read(0, src.size), cx));
    }
    src.close();
    return undefined;
  } catch (e) {
    src.close();
    throw e;
  }
}

/**
 * Write a file through `fill(sink)`: chunks go to a temporary file in the target's folder, renamed
 * over `path` once `fill` returns; on any failure the temporary file is removed and `path` is left as
 * it was.
 * @example
 * writeFileStreaming('out.bin', (sink) => { sink(a); sink(b); });
 */
function writeFileStreaming(path: string, fill: (sink: (chunk: Uint8Array) => void) => void): void {
  writeFileAtomicStreamingSync(path, (sink) => fill((chunk) => sink.write(chunk)));
}

/** The folder name torch gives an archive saved at `path` (its base name without extension). */
function archiveNameFor(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '');
  return /^[\x20-\x7e]+$/.test(stem) && stem !== '' && !/[/\\]/.test(stem) ? stem : 'archive';
}

/**
 * Convert a tensor file to `format` (`'pt'`, `'safetensors'` or `'npz'`), reading and writing one
 * tensor at a time: peak memory is about the largest tensor (plus the pickle of a .pt's structure),
 * whatever the file size. `input` is a path (torch archive, legacy torch file, .npz, safetensors) or
 * an already decoded value (a pickle's or joblib file's, held in memory anyway). The output appears
 * only when complete; values the format cannot hold are refused with a PicklingError naming their path.
 * @example
 * convertTensorFile('model.pt', 'model.safetensors', 'safetensors');
 * convertTensorFile('model.safetensors', 'model.pt', 'pt');
 */
export function convertTensorFile(
  input: string | { readonly value: unknown },
  output: string,
  format: TensorFormat,
  options: {
    readonly compress?: boolean;
    readonly protocol?: Protocol;
    /** pt output: write foreign objects back as their Python classes (decode with `lossless` then). */
    readonly allowGlobals?: boolean;
    readonly load?: LoadOptions;
    /** Progress: hears the bytes of tensor data written so far, after each tensor. */
    readonly progress?: (bytes: number) => void;
  } = {},
): void {
  const opened = typeof input === 'string' ? openTensorFile(input, options.load) : undefined;
  if (typeof input === 'string' && opened === undefined)
    throw new UnpicklingError(
      `${input} is no torch, safetensors or .npz file; decode it first and pass { value }`,
      -1,
      undefined,
      'wrong-format',
    );
  try {
    const value = opened ? opened.value : (input as { value: unknown }).value;
    let done = 0;
    const o: TensorFormatOptions = {
      ...(options.compress !== undefined ? { compress: options.compress } : {}),
      ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
      ...(options.allowGlobals !== undefined ? { allowGlobals: options.allowGlobals } : {}),
      ...(options.load?.lossless !== undefined ? { lossless: options.load.lossless } : {}),
      ...(format === 'pt' ? { archiveName: archiveNameFor(output) } : {}),
      ...(opened?.kind === 'safetensors' && format === 'safetensors' && opened.metadata
        ? { metadata: opened.metadata }
        : {}),
      ...(nativeCrc32 ? { crc32: nativeCrc32 } : {}),
      written: (s: Storage) => {
        // Storages read from the input file are dropped once written (read again if another tensor needs them).
        if (opened) s.release();
        done += s.nbytes;
        options.progress?.(done);
      },
    };
    writeFileStreaming(output, (sink) => writeTensorFormat(value, format, sink, o));
  } finally {
    opened?.close();
  }
}
