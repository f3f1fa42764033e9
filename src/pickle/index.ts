/** Public encoding entry points: `dumps` (bytes) and `dump` (a file, written atomically). */
import { writeFileAtomicStreaming } from '../bytes/atomic.js';
import { encode, encodeTo } from './encoder.js';
import type { DumpOptions } from './options.js';

export type { DumpOptions, Protocol } from './options.js';
export type { Reduction, ReductionKind, Reducer, ReduceContext } from './reducers.js';
export { PyFloat, PyName, Reduced, reduceCall } from './reducers.js';

/**
 * Pickle `value` as CPython's `pickle.dumps(value, protocol)` would (default protocol 4).
 * @example
 * dumps({ a: [1, 2.5, 'x'] }) // Python: {'a': [1, 2.5, 'x']}
 * dumps(x, { protocol: 2, lossless: true }) // numbers are floats, bigints ints
 * @throws PicklingError for values with no Python equivalent, with the path to the value.
 */
export function dumps(value: unknown, options?: DumpOptions): Uint8Array {
  return encode(value, options);
}

/**
 * Pickle `value` into the file at `path`. The bytes go to a temporary file in the same directory as
 * they are produced (memory holds the largest value, not the file) and the file is then renamed over
 * `path`, so readers never see a half-written file; on any failure the temporary file is removed and
 * `path` is left as it was.
 */
export async function dump(path: string, value: unknown, options?: DumpOptions): Promise<void> {
  // Streamed: the pickle goes to the file as it is produced (large arrays straight from their memory).
  await writeFileAtomicStreaming(path, (sink) => encodeTo(value, options, sink));
}
