/** Node only: `dump(path, value)`, streamed into the file and renamed into place when complete. */
import { writeFileAtomicStreaming } from '../bytes/atomic.js';
import { encodeTo } from './encoder.js';
import type { DumpOptions } from './options.js';

/**
 * Pickle `value` into the file at `path`. The bytes go to a temporary file in the same directory as
 * they are produced (memory holds the largest value, not the file) and the file is then renamed over
 * `path`, so readers never see a half-written file; on any failure the temporary file is removed and
 * `path` is left as it was.
 * @example
 * await dump('model.pkl', value, { protocol: 4 });
 */
export async function dump(path: string, value: unknown, options?: DumpOptions): Promise<void> {
  // Streamed: the pickle goes to the file as it is produced (large arrays straight from their memory).
  await writeFileAtomicStreaming(path, (sink) => encodeTo(value, options, sink));
}
