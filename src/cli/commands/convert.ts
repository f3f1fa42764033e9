/**
 * `picklejar convert`: decode losslessly and write again as a pickle or a joblib file, or convert
 * between the tensor formats (.pt, .safetensors, .npz): files of those formats are read by position
 * and written one tensor at a time.
 */
import { dump } from '../../pickle/dump-file.js';
import { dumpJoblib } from '../../joblib/write-file.js';
import { JOBLIB_COMPRESSORS, compressJoblib, type JoblibCompressor } from '../../joblib/compress.js';
import { joblibStream, resolveCompression, type JoblibCompress } from '../../joblib/write.js';
import { statSync } from 'node:fs';
import { PickleError, PicklingError } from '../../errors.js';
import type { Protocol } from '../../pickle/options.js';
import type { Tensor } from '../../torch/tensor.js';
import { isSafetensors } from '../../containers/safetensors.js';
import { containerKind } from '../../containers/torch-archive.js';
import { FileSource } from '../../containers/file-source.js';
import {
  stateDictFromTensors,
  tensorPath,
  writeTensorFormat,
  type TensorFormat,
} from '../../containers/convert.js';
import { convertTensorFile, openTensorFile } from '../../containers/convert-file.js';
import { dumps } from '../../pickle/index.js';
import { intOption, stringOption, UsageError, type Parsed } from '../args.js';
import type { Io } from '../specs.js';
import { decodeInput } from '../input.js';
import { decodePath, probeFile, usePath } from '../open-file.js';
import { errnoText, formatSize, InputError } from '../read.js';
import { OutputError } from '../report.js';
import { displayName, encodingOption, getInput, type Runner } from './common.js';

const JOBLIB_EXTENSIONS = ['.joblib', '.z', '.gz', '.bz2', '.lzma', '.xz', '.lz4'];
const TENSOR_EXTENSIONS: readonly [string, TensorFormat][] = [
  ['.pt', 'pt'],
  ['.pth', 'pt'],
  ['.safetensors', 'safetensors'],
  ['.npz', 'npz'],
];
const FORMATS = ['pickle', 'joblib', 'pt', 'safetensors', 'npz'] as const;
type Format = (typeof FORMATS)[number];

function parseCompress(text: string): JoblibCompress {
  const m = /^([a-z0-9]+)(?::(\d+))?$/.exec(text);
  const bad = (): never => {
    throw new UsageError(
      `picklejar convert: --compress must be METHOD[:LEVEL] with METHOD one of ${JOBLIB_COMPRESSORS.join(', ')} and LEVEL 1-9, got ${JSON.stringify(text)}`,
      'convert',
    );
  };
  if (!m) return bad();
  const [, method, level] = m as unknown as [string, string, string | undefined];
  if (/^\d+$/.test(method) && level === undefined) {
    const n = Number(method);
    if (n < 0 || n > 9) return bad();
    return n;
  }
  if (!(JOBLIB_COMPRESSORS as readonly string[]).includes(method)) return bad();
  if (level === undefined) return method as JoblibCompressor;
  const n = Number(level);
  if (n < 1 || n > 9) return bad();
  return [method as JoblibCompressor, n];
}

export const convert: Runner = {
  async run(p, io) {
    const [inName, outName] = p.operands as [string, string];
    const to = stringOption(p, 'to');
    if (to !== undefined && !(FORMATS as readonly string[]).includes(to)) {
      throw new UsageError(
        `picklejar convert: --to must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(to)}`,
        'convert',
      );
    }
    const compressText = stringOption(p, 'compress');
    const lower = outName.toLowerCase();
    const format: Format =
      (to as Format | undefined) ??
      TENSOR_EXTENSIONS.find(([e]) => lower.endsWith(e))?.[1] ??
      (compressText !== undefined || JOBLIB_EXTENSIONS.some((e) => lower.endsWith(e)) ? 'joblib' : 'pickle');
    if (outName === '-' && io.stdoutIsTTY) {
      throw new UsageError(
        'picklejar convert: refusing to write binary data to a terminal; redirect stdout or name a file',
        'convert',
      );
    }
    if (format === 'pt' || format === 'safetensors' || format === 'npz')
      return tensorConvert(p, io, inName, outName, format, compressText);
    const compress = compressText === undefined ? undefined : parseCompress(compressText);
    if (compress !== undefined && format === 'pickle') {
      throw new UsageError(
        'picklejar convert: --compress applies to joblib output; drop it or use --to joblib',
        'convert',
      );
    }
    const protocol = intOption(p, 'protocol', 4);
    const encoding = encodingOption(p, 'convert');
    const loadOpts = { lossless: true, ...(encoding !== undefined ? { encoding } : {}) } as const;
    let decoded: unknown;
    let safetensors: boolean;
    const probe = inName === '-' ? undefined : probeFile(inName);
    if (probe !== undefined && usePath(probe, false)) {
      // By path: arrays read into their own buffers, no whole-file buffer (files past 4 GiB too).
      ({ value: decoded } = await decodePath(probe, loadOpts, false, displayName(inName), io.status));
      safetensors = isSafetensors(probe.head, probe.size);
    } else {
      const input = await getInput(inName, io);
      ({ value: decoded } = await decodeInput(input, loadOpts, io.status));
      safetensors = isSafetensors(input.data);
    }
    const value = safetensors ? stateDictFromTensors(...safetensorsParts(decoded)) : decoded;
    const holder = tensorPath(value);
    if (holder !== undefined)
      throw new PicklingError(
        `a torch tensor: ${format} output cannot hold tensors here; convert to .pt, .safetensors or .npz instead`,
        holder,
        'invalid-value',
      );
    const opts = { protocol, allowGlobals: true, lossless: true } as const;
    if (outName !== '-') {
      // Streamed into a temporary file renamed over OUT when complete: memory holds the value and a
      // block, never the encoded (or compressed) file.
      const c = format === 'joblib' ? resolveCompression(compress, outName) : undefined;
      io.status(
        `writing ${outName} (${format === 'pickle' ? `protocol ${protocol} pickle` : `joblib${c ? `, ${c[0]} level ${c[1]}` : ''}`})`,
      );
      try {
        if (format === 'pickle') await dump(outName, value, opts);
        else await dumpJoblib(outName, value, { ...opts, ...(c !== undefined ? { compress: c } : {}) });
      } catch (e) {
        throw outputError(e, outName);
      }
      return 0;
    }
    let data: Uint8Array;
    if (format === 'pickle') {
      io.status(`encoding a protocol ${protocol} pickle`);
      data = dumps(value, opts);
    } else {
      io.status(`encoding a joblib stream (protocol ${protocol})`);
      data = joblibStream(value, opts);
      // The extension picks the compressor as joblib.dump does, unless --compress names one.
      const c = resolveCompression(compress, outName === '-' ? undefined : outName);
      if (c !== undefined) {
        io.status(`compressing (${c[0]} level ${c[1]}, ${formatSize(data.length)})`);
        data = compressJoblib(data, c[0], c[1]);
      }
    }
    io.status(`writing <stdout> (${formatSize(data.length)})`);
    io.out(data);
    return 0;
  },
};

function outputError(e: unknown, outName: string): unknown {
  if (e instanceof PicklingError && e.code === 'io') return new OutputError(e.message);
  if (e instanceof PickleError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return new OutputError(`cannot write ${outName}: ${errnoText(e)}`);
  return e;
}

/** `loads` of a safetensors file: its tensors and metadata. */
function safetensorsParts(v: unknown): [Map<string, Tensor>, Record<string, string> | null] {
  const st = v as { tensors: Map<string, Tensor>; metadata: Record<string, string> | null };
  return [st.tensors, st.metadata];
}

/** --compress for .npz output: zlib (or deflate) means np.savez_compressed. */
function npzCompress(text: string | undefined, format: TensorFormat): boolean | undefined {
  if (text === undefined) return undefined;
  if (format === 'npz' && (text === 'zlib' || text === 'deflate')) return true;
  throw new UsageError(
    format === 'npz'
      ? `picklejar convert: --compress for .npz output must be zlib (np.savez_compressed), got ${JSON.stringify(text)}`
      : `picklejar convert: --compress applies to joblib and .npz output, not ${format}`,
    'convert',
  );
}

/** pt, safetensors and npz output: files of the tensor formats are converted one tensor at a time. */
async function tensorConvert(
  p: Parsed,
  io: Io,
  inName: string,
  outName: string,
  format: TensorFormat,
  compressText: string | undefined,
): Promise<number> {
  const compress = npzCompress(compressText, format);
  if (p.options.has('protocol') && format !== 'pt')
    throw new UsageError(
      `picklejar convert: --protocol applies to pickle, joblib and .pt output, not ${format}`,
      'convert',
    );
  const protocol = p.options.has('protocol') ? (intOption(p, 'protocol', 2) as Protocol) : undefined;
  const encoding = encodingOption(p, 'convert');
  const load = { lossless: true, ...(encoding !== undefined ? { encoding } : {}) } as const;
  const target = outName === '-' ? '<stdout>' : outName;
  const shown = displayName(inName);
  let input: string | { value: unknown } | undefined;
  if (inName !== '-') {
    let st;
    try {
      st = statSync(inName);
    } catch (e) {
      throw new InputError(`cannot read ${inName}: ${errnoText(e)}`);
    }
    if (st.isFile()) {
      const head = readHead(inName);
      if (
        isSafetensors(head, st.size) ||
        containerKind(head) === 'zip' ||
        containerKind(head) === 'legacy-torch'
      )
        input = inName;
    }
  }
  if (input === undefined) {
    const probe = inName === '-' ? undefined : probeFile(inName);
    if (probe !== undefined && usePath(probe, false)) {
      input = await decodePath(probe, load, false, shown, io.status);
    } else {
      const data = await getInput(inName, io);
      const { value } = await decodeInput(data, load, io.status);
      input = { value: isSafetensors(data.data) ? stateDictFromTensors(...safetensorsParts(value)) : value };
    }
  } else io.status(`reading the structure of ${shown}`);
  const progress = (bytes: number): void => io.status(`writing ${target} (${format}): ${formatSize(bytes)}`);
  try {
    if (outName === '-') {
      // stdout: the output is gathered first (a refusal must not leave half a file on the pipe).
      const chunks: Uint8Array[] = [];
      const opened = typeof input === 'string' ? openTensorFile(input, load) : undefined;
      try {
        const value = opened ? opened.value : (input as { value: unknown }).value;
        writeTensorFormat(value, format, (c) => chunks.push(c), {
          ...(compress !== undefined ? { compress } : {}),
          ...(protocol !== undefined ? { protocol } : {}),
          allowGlobals: true,
          lossless: true,
          ...(opened?.kind === 'safetensors' && format === 'safetensors' && opened.metadata
            ? { metadata: opened.metadata }
            : {}),
        });
      } finally {
        opened?.close();
      }
      for (const c of chunks) io.out(c);
      return 0;
    }
    convertTensorFile(input, outName, format, {
      ...(compress !== undefined ? { compress } : {}),
      ...(protocol !== undefined ? { protocol } : {}),
      allowGlobals: true,
      load,
      progress,
    });
  } catch (e) {
    throw outputError(e, outName);
  }
  return 0;
}

/** The first 512 bytes of a file (enough to tell the container). */
function readHead(path: string): Uint8Array {
  const src = FileSource.open(path);
  try {
    return src.read(0, Math.min(src.size, 512));
  } finally {
    src.close();
  }
}
