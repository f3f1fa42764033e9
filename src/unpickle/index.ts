/** Entry points of the decoder over plain pickle bytes (containers such as joblib wrap these). */
import { UnpicklingError } from '../errors.js';
import { Machine, resolveOptions } from './decoder.js';
import type { LoadOptions } from './options.js';
import type { FamilySet } from '../family.js';
import type { ByteSource } from '../bytes/source.js';
import type { Windowing } from './machine.js';

function checkInput(data: Uint8Array, maxInputBytes: number): void {
  if (!(data instanceof Uint8Array)) throw new UnpicklingError('input must be a Uint8Array');
  if (data.length > maxInputBytes) {
    throw new UnpicklingError(
      `input of ${data.length} bytes exceeds limits.maxInputBytes (${maxInputBytes}); raise it to allow more`,
    );
  }
}

/** Decode the first pickle in `data` (trailing bytes are ignored, as Python's pickle.loads does). */
export function unpickle(
  data: Uint8Array,
  options: LoadOptions | undefined,
  families: FamilySet,
  readSibling?: (name: string) => Uint8Array | undefined,
): unknown {
  const opts = resolveOptions(options, families, readSibling);
  checkInput(data, opts.limits.maxInputBytes);
  if (data.length === 0) throw new UnpicklingError('pickle data was truncated (empty input)', 0);
  return new Machine(data, opts).run(0).value;
}

/** Decode every pickle in `data`, one after another, until the input ends. */
export function unpickleAll(
  data: Uint8Array,
  options: LoadOptions | undefined,
  families: FamilySet,
): unknown[] {
  const opts = resolveOptions(options, families);
  checkInput(data, opts.limits.maxInputBytes);
  const out: unknown[] = [];
  let pos = 0;
  while (pos < data.length) {
    const { value, end } = new Machine(data, opts).run(pos);
    out.push(value);
    pos = end;
  }
  return out;
}

/**
 * Decode pickles from a byte source that is not in memory (a file read by positioned reads, a
 * decompressed stream held in chunks), through a window: no whole-input buffer, any size. `all`
 * decodes every pickle until the source ends (as unpickleAll), else only the first.
 */
export function unpickleSource(
  source: ByteSource,
  options: LoadOptions | undefined,
  families: FamilySet,
  readSibling?: (name: string) => Uint8Array | undefined,
  windowing?: Windowing,
): unknown {
  if (source.size === 0)
    throw new UnpicklingError('pickle data was truncated (empty input)', 0, undefined, 'truncated');
  const opts = resolveOptions(options, families, readSibling);
  return new Machine(source, opts, 0, windowing).run(0).value;
}
