/**
 * The commands' implementations. Each takes parsed arguments and an Io (where output goes), returns
 * an exit status, and leaves all real work to the library. Loaded only when a command runs, so
 * --help, --version and usage errors do not load the library.
 */
import {
  DEFAULT_LIMITS,
  disassemble,
  DisassemblyError,
  dump,
  dumpJoblib,
  dumps,
  dumpsJoblib,
  PickleError,
  PicklingError,
  scan,
  toJsonPickle,
  toPlainJson,
  UnpicklingError,
  type JoblibCompress,
  type LoadOptions,
} from '../index.js';
import { decompressJoblib, JOBLIB_COMPRESSORS, type JoblibCompressor } from '../joblib/compress.js';
import { flag, intOption, stringOption, UsageError, type Parsed } from './args.js';
import type { Io } from './specs.js';
import { usageMessage } from './run.js';
import { decodeAll, decodeInput, describeContainer, unwrap } from './input.js';
import { errnoText, formatSize, InputError, readFileWithStatus, type Input } from './read.js';
import { count, countsText, renderTree } from './show.js';
import { scanExitCode, scanJson, scanText, type FileResult } from './scan-report.js';
import { reindentJson } from './json-format.js';

/** A command's implementation (its options and operands are declared in specs.ts). */
interface Runner {
  run(p: Parsed, io: Io): Promise<number>;
}

async function getInput(name: string, io: Io): Promise<Input> {
  if (name === '-') return { name: '-', path: undefined, data: await io.stdin() };
  return { name, path: name, data: await readFileWithStatus(name, io.status) };
}

function displayName(name: string): string {
  return name === '-' ? '<stdin>' : name;
}

const ENCODINGS = ['ascii', 'latin1', 'bytes', 'utf-8'] as const;

/** --encoding: how Python 2 `str` decodes (LoadOptions.encoding); default 'ascii', as in Python. */
function encodingOption(p: Parsed, command: string): LoadOptions['encoding'] {
  const e = stringOption(p, 'encoding');
  if (e === undefined) return undefined;
  const v = e.toLowerCase().replace(/^latin-1$/, 'latin1').replace(/^utf8$/, 'utf-8');
  if (!(ENCODINGS as readonly string[]).includes(v)) {
    throw new UsageError(`picklejar ${command}: --encoding must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(e)}`, command);
  }
  return v as LoadOptions['encoding'];
}

function loadOptions(p: Parsed, lossless: boolean, command: string): LoadOptions {
  const encoding = encodingOption(p, command);
  return {
    lossless,
    dangerousGlobals: flag(p, 'inert') ? 'inert' : 'error',
    ...(encoding !== undefined ? { encoding } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

const show: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    const input = await getInput(name, io);
    const lossless = flag(p, 'lossless');
    io.status(`decoding ${displayName(name)} (${formatSize(input.data.length)})`);
    const all = flag(p, 'all');
    const { values, info } = all
      ? await decodeAll(input, loadOptions(p, lossless, 'show'))
      : await decodeInput(input, loadOptions(p, lossless, 'show')).then((r) => ({ values: [r.value], info: r.info }));
    io.status(`rendering ${displayName(name)}`);
    const pickles = all ? `${values.length} pickle${values.length === 1 ? '' : 's'}; ` : '';
    const summary = `${io.style.bold(displayName(name))}: ${describeContainer(info)}; ${pickles}${countsText(count(...values))}`;
    const out = [summary];
    const opts = {
      depth: intOption(p, 'depth', 8),
      items: intOption(p, 'items', 20),
      lossless,
      style: io.style,
    };
    values.forEach((value, i) => {
      if (all) out.push(io.style.note(`--- pickle ${i + 1} of ${values.length} ---`));
      out.push(...renderTree(value, opts));
    });
    io.out(out.join('\n') + '\n');
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------

const json: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    const input = await getInput(name, io);
    const jp = flag(p, 'jsonpickle');
    io.status(`decoding ${displayName(name)} (${formatSize(input.data.length)})`);
    const { value } = await decodeInput(input, loadOptions(p, jp, 'json'));
    let text: string;
    if (jp) {
      text = toJsonPickle(value);
      const indent = intOption(p, 'indent', 0);
      if (indent > 0) text = reindentJson(text, indent);
    } else {
      const depth = p.options.get('depth');
      text = toPlainJson(value, intOption(p, 'indent', 2), {
        ...(typeof depth === 'number' ? { maxDepth: depth } : {}),
        maxArrayItems: intOption(p, 'array-items', 1000),
      });
    }
    io.out(text.endsWith('\n') ? text : text + '\n');
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------

const dis: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    const input = await getInput(name, io);
    const { plain, info } = unwrap(input.data);
    if (info.format === 'npy') {
      throw new InputError(
        `${displayName(name)} is a .npy file (a numpy array), not a pickle; try \`picklejar show\``,
      );
    }
    if (info.compression)
      io.err(
        `picklejar: note: ${displayName(name)} is ${info.compression}-compressed; listing the decompressed stream`,
      );
    io.status(`disassembling ${displayName(name)}`);
    try {
      io.out(
        disassemble(plain, {
          annotate: flag(p, 'annotate') ? 30 : 0,
          indentLevel: intOption(p, 'indentlevel', 4),
          all: flag(p, 'all'),
        }),
      );
    } catch (e) {
      if (e instanceof DisassemblyError) io.out(e.output);
      throw e;
    }
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------

const scanCmd: Runner = {
  async run(p, io) {
    const strict = flag(p, 'strict');
    const results: FileResult[] = [];
    for (const name of p.operands) {
      const file = displayName(name);
      let result: FileResult;
      try {
        const input = await getInput(name, io);
        io.status(`scanning ${file} (${formatSize(input.data.length)})`);
        let decompressError: string | undefined;
        const report = scan(input.data, {
          decompress: (d) => {
            try {
              return decompressJoblib(d, DEFAULT_LIMITS.maxInputBytes);
            } catch (e) {
              decompressError = (e as Error).message;
              return undefined;
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

// ---------------------------------------------------------------------------------------------

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

const convert: Runner = {
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
    const input = await getInput(inName, io);
    io.status(`decoding ${displayName(inName)} (${formatSize(input.data.length)})`);
    const encoding = encodingOption(p, 'convert');
    const { value } = await decodeInput(input, { lossless: true, ...(encoding !== undefined ? { encoding } : {}) });
    io.status(`writing ${outName === '-' ? '<stdout>' : outName}`);
    const opts = { protocol, allowGlobals: true, lossless: true } as const;
    try {
      if (format === 'pickle') {
        if (outName === '-') io.out(dumps(value, opts));
        else await dump(outName, value, opts);
      } else {
        const jopts = compress === undefined ? opts : { ...opts, compress };
        if (outName === '-') io.out(dumpsJoblib(value, jopts));
        else await dumpJoblib(outName, value, jopts);
      }
    } catch (e) {
      if (e instanceof PickleError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new OutputError(`cannot write ${outName}: ${errnoText(e)}`);
      throw e;
    }
    return 0;
  },
};

/** A failure to write the output (exit status 1). */
export class OutputError extends Error {
  override name = 'OutputError';
}

export const RUNNERS: ReadonlyMap<string, Runner> = new Map([
  ['show', show],
  ['json', json],
  ['dis', dis],
  ['scan', scanCmd],
  ['convert', convert],
]);

/** Exit status and one-line message for an error thrown by a command. */
export function errorReport(e: unknown, debug: boolean): { code: number; message: string } {
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
  let code: number;
  let message: string;
  if (e instanceof UsageError) {
    code = 2;
    message = usageMessage(e);
  } else if (e instanceof InputError) {
    code = 3;
    message = `picklejar: ${e.message}`;
  } else if (e instanceof DisassemblyError) {
    code = 3;
    message = e.pythonMessage.includes(String(e.offset))
      ? `picklejar: ${e.pythonMessage}`
      : `picklejar: ${e.pythonMessage} (at byte ${e.offset})`;
  } else if (e instanceof UnpicklingError) {
    code = 3;
    // The library's hint names the API option; on the command line it is --inert.
    message = `picklejar: UnpicklingError: ${e.message
      .replace(/\(pass dangerousGlobals: 'inert' to decode it as an inert reference\)/, '(scan it with `picklejar scan`, or show it with --inert: nothing is executed either way)')
      .replace(/need encoding: 'latin1' or 'bytes'/, "need --encoding latin1 (str as text) or --encoding bytes (str as bytes)")}`;
  } else if (e instanceof PicklingError) {
    code = 1;
    message = `picklejar: PicklingError: ${e.message}`;
  } else if (e instanceof PickleError) {
    code = 1;
    message = `picklejar: ${e.name}: ${e.message}`;
  } else if (e instanceof OutputError) {
    code = 1;
    message = `picklejar: ${e.message}`;
  } else if (
    e instanceof RangeError &&
    /Invalid (typed )?array length|Array buffer allocation failed|Invalid string length/.test(e.message)
  ) {
    code = 3;
    message = `picklejar: out of memory: ${e.message}`;
  } else {
    code = 1;
    const err = e instanceof Error ? e : new Error(String(e));
    message = `picklejar: ${err.message}${debug ? '' : ' (run with --debug for a stack trace)'}`;
  }
  message = oneLine(message);
  if (debug && e instanceof Error && e.stack) message += '\n' + e.stack;
  return { code, message };
}
