/** Entry points of the decoder over plain pickle bytes (containers such as joblib wrap these). */
import { UnpicklingError } from '../errors.js';
import { Machine, resolveOptions } from './decoder.js';
import type { LoadOptions } from './options.js';
import type { FamilySet } from '../family.js';

function checkInput(data: Uint8Array, maxInputBytes: number): void {
  if (!(data instanceof Uint8Array)) throw new UnpicklingError('input must be a Uint8Array');
  if (data.length > maxInputBytes) {
    throw new UnpicklingError(`input of ${data.length} bytes exceeds limits.maxInputBytes (${maxInputBytes}); raise it to allow more`);
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
export function unpickleAll(data: Uint8Array, options: LoadOptions | undefined, families: FamilySet): unknown[] {
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
