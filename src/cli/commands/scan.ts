/** `picklejar scan`: the globals each file would import, graded; the exit status gates uploads. */
import { decompressJoblib } from '../../joblib/compress.js';
import { scan, scanSource, type ScanReport } from '../../tools/scan/index.js';
import { FileSource } from '../../containers/file-source.js';
import { probeFile } from '../open-file.js';
import { isSafetensors } from '../../containers/safetensors.js';
import { isZip } from '../../containers/zip.js';
import { DEFAULT_LIMITS } from '../../unpickle/options.js';
import { flag } from '../args.js';
import { containerOf } from '../container.js';
import { formatSize, InputError } from '../read.js';
import { scanExitCode, scanJson, scanText, type FileResult } from '../scan-report.js';
import { displayName, getInput, type Runner } from './common.js';

const NO_PICKLE = {
  dangerous: false,
  globals: [],
  pickles: 0,
  protocol: 0,
  errors: [],
  arrays: 0,
  complete: true,
} as const satisfies ScanReport;

export const scanCmd: Runner = {
  async run(p, io) {
    const strict = flag(p, 'strict');
    const results: FileResult[] = [];
    for (const name of p.operands) {
      const file = displayName(name);
      let result: FileResult;
      try {
        const probe = name === '-' ? undefined : probeFile(name);
        if (probe !== undefined && probe.regular && isSafetensors(probe.head, probe.size)) {
          // JSON and raw tensor bytes: nothing in it can name a global.
          results.push({ file, report: NO_PICKLE, note: 'safetensors file, no pickle inside' });
          if (!flag(p, 'json') && !flag(p, 'quiet'))
            io.out(scanText(results[results.length - 1] as FileResult, strict, io.style).join('\n') + '\n');
          continue;
        }
        if (probe !== undefined && probe.regular && (probe.kind === 'plain' || isZip(probe.head))) {
          // Uncompressed streams by position: joblib's array payloads are stepped over, not read;
          // zip archives (torch, .npz): their pickles only, never the tensor or array data.
          io.status(`scanning ${file} (${formatSize(probe.size)})`);
          let src;
          try {
            src = FileSource.open(name);
          } catch (e) {
            throw new InputError((e as Error).message);
          }
          let report;
          try {
            report = scanSource(src);
          } finally {
            src.close();
          }
          result = { file, report };
          results.push(result);
          if (!flag(p, 'json') && !flag(p, 'quiet'))
            io.out(scanText(result, strict, io.style).join('\n') + '\n');
          continue;
        }
        const input = await getInput(name, io);
        if (isSafetensors(input.data)) {
          // JSON and raw tensor bytes: nothing in it can name a global.
          results.push({ file, report: NO_PICKLE, note: 'safetensors file, no pickle inside' });
          if (!flag(p, 'json') && !flag(p, 'quiet'))
            io.out(scanText(results[results.length - 1] as FileResult, strict, io.style).join('\n') + '\n');
          continue;
        }
        let decompressError: string | undefined;
        const report = scan(input.data, {
          decompress: (d) => {
            io.status(`decompressing ${file} (${containerOf(d) ?? 'compressed'}, ${formatSize(d.length)})`);
            try {
              return decompressJoblib(d, DEFAULT_LIMITS.maxInputBytes);
            } catch (e) {
              decompressError = (e as Error).message;
              return undefined;
            } finally {
              io.status(`scanning ${file}`);
            }
          },
        });
        result =
          decompressError !== undefined
            ? { file, error: `cannot decompress: ${decompressError}` }
            : { file, report };
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        result = { file, error: e.message };
      }
      results.push(result);
      if (!flag(p, 'json') && !flag(p, 'quiet')) io.out(scanText(result, strict, io.style).join('\n') + '\n');
    }
    if (flag(p, 'json') && !flag(p, 'quiet'))
      io.out(JSON.stringify(scanJson(results, strict), null, 2) + '\n');
    return scanExitCode(results, strict);
  },
};
