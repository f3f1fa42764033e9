/** Public encoding entry point `dumps` (bytes); `dump` (a file) is Node-only, in dump-file.ts. */
import { encode } from './encoder.js';
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
