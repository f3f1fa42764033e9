/** What the commands share: reading an input, and the decoding options every command spells the same. */
import type { LoadOptions } from '../../unpickle/options.js';
import { flag, stringOption, UsageError, type Parsed } from '../args.js';
import { readFileWithStatus, type Input } from '../read.js';
import { decodeAll, decodeInput, type ContainerInfo } from '../input.js';
import { decodePath, lazyThreshold, probeFile, usePath } from '../open-file.js';
import type { Io } from '../specs.js';

import { displayName } from '../read.js';

export { displayName };

/** A command's implementation (its options and operands are declared in specs.ts). */
export interface Runner {
  run(p: Parsed, io: Io): Promise<number>;
}

/** The bytes of an input: a file, or stdin for `-`. */
export async function getInput(name: string, io: Io): Promise<Input> {
  if (name === '-') return { name: '-', path: undefined, data: await io.stdin() };
  return { name, path: name, data: await readFileWithStatus(name, io.status) };
}

const ENCODINGS = ['ascii', 'latin1', 'bytes', 'utf-8'] as const;

/** --encoding: how Python 2 `str` decodes (LoadOptions.encoding); default 'ascii', as in Python. */
export function encodingOption(p: Parsed, command: string): LoadOptions['encoding'] {
  const e = stringOption(p, 'encoding');
  if (e === undefined) return undefined;
  const v = e
    .toLowerCase()
    .replace(/^latin-1$/, 'latin1')
    .replace(/^utf8$/, 'utf-8');
  if (!(ENCODINGS as readonly string[]).includes(v)) {
    throw new UsageError(
      `picklejar ${command}: --encoding must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(e)}`,
      command,
    );
  }
  return v as LoadOptions['encoding'];
}

/** Decoding options from --inert and --encoding. */
export function loadOptions(p: Parsed, lossless: boolean, command: string): LoadOptions {
  const encoding = encodingOption(p, command);
  return {
    lossless,
    dangerousGlobals: flag(p, 'inert') ? 'inert' : 'error',
    ...(encoding !== undefined ? { encoding } : {}),
  };
}

/**
 * Decode a command's input: files through `load(path)` when they are tensor containers, large
 * (lazily then, unless --no-lazy) or --lazy is given; stdin and small files from their bytes.
 * `all`: every pickle of a multi-pickle stream (read from bytes; --lazy does not apply).
 */
export async function decodeOperand(
  name: string,
  p: Parsed,
  options: LoadOptions,
  io: Io,
  command: string,
  all = false,
): Promise<{ values: unknown[]; info: ContainerInfo }> {
  const lazyFlag = flag(p, 'lazy');
  const eagerFlag = flag(p, 'no-lazy');
  if (lazyFlag && eagerFlag)
    throw new UsageError(`picklejar ${command}: --lazy and --no-lazy exclude each other`, command);
  if (lazyFlag && name === '-')
    throw new UsageError(`picklejar ${command}: --lazy needs a file (stdin is read whole)`, command);
  if (name !== '-' && !all) {
    const probe = probeFile(name);
    const lazy =
      lazyFlag ||
      (!eagerFlag &&
        probe.regular &&
        probe.kind !== 'compressed' &&
        (probe.kind === 'tensor' || probe.size >= lazyThreshold()));
    if (usePath(probe, lazy)) {
      const { value, info } = await decodePath(probe, options, lazy, displayName(name), io.status);
      return { values: [value], info };
    }
  }
  const input = await getInput(name, io);
  if (all) return decodeAll(input, options, io.status);
  const { value, info } = await decodeInput(input, options, io.status);
  return { values: [value], info };
}

/** A string option that must be one of `choices` (default `fallback`). */
export function choiceOption<T extends string>(
  p: Parsed,
  name: string,
  choices: readonly T[],
  fallback: T,
  command: string,
): T {
  const v = stringOption(p, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(
      `picklejar ${command}: --${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`,
      command,
    );
  }
  return v as T;
}
