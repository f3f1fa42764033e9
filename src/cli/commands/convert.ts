/** `picklejar convert`: decode losslessly and write again as a pickle or a joblib file. */
import { writeFileAtomic } from '../../bytes/atomic.js';
import { JOBLIB_COMPRESSORS, compressJoblib, type JoblibCompressor } from '../../joblib/compress.js';
import { joblibStream, resolveCompression, type JoblibCompress } from '../../joblib/write.js';
import { PickleError } from '../../errors.js';
import { dumps } from '../../pickle/index.js';
import { intOption, stringOption, UsageError } from '../args.js';
import { decodeInput } from '../input.js';
import { errnoText, formatSize } from '../read.js';
import { OutputError } from '../report.js';
import { encodingOption, getInput, type Runner } from './common.js';

const JOBLIB_EXTENSIONS = ['.joblib', '.z', '.gz', '.bz2', '.lzma', '.xz', '.lz4'];

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
    if (to !== undefined && to !== 'pickle' && to !== 'joblib') {
      throw new UsageError(
        `picklejar convert: --to must be pickle or joblib, got ${JSON.stringify(to)}`,
        'convert',
      );
    }
    const compressText = stringOption(p, 'compress');
    const compress = compressText === undefined ? undefined : parseCompress(compressText);
    if (compress !== undefined && to === 'pickle') {
      throw new UsageError(
        'picklejar convert: --compress applies to joblib output; drop it or use --to joblib',
        'convert',
      );
    }
    const format =
      to ??
      (compress !== undefined || JOBLIB_EXTENSIONS.some((e) => outName.toLowerCase().endsWith(e))
        ? 'joblib'
        : 'pickle');
    if (outName === '-' && io.stdoutIsTTY) {
      throw new UsageError(
        'picklejar convert: refusing to write binary data to a terminal; redirect stdout or name a file',
        'convert',
      );
    }
    const protocol = intOption(p, 'protocol', 4);
    const encoding = encodingOption(p, 'convert');
    const input = await getInput(inName, io);
    const { value } = await decodeInput(
      input,
      { lossless: true, ...(encoding !== undefined ? { encoding } : {}) },
      io.status,
    );
    const opts = { protocol, allowGlobals: true, lossless: true } as const;
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
    const target = outName === '-' ? '<stdout>' : outName;
    io.status(`writing ${target} (${formatSize(data.length)})`);
    if (outName === '-') {
      io.out(data);
      return 0;
    }
    try {
      await writeFileAtomic(outName, data);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new OutputError(`cannot write ${outName}: ${errnoText(e)}`);
      throw e;
    }
    return 0;
  },
};
