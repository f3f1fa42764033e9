/**
 * Browser stand-in for atomic.ts (package.json "browser" map): a page has no files to write. The
 * public file writers are replaced in browser.ts first; this keeps their modules bundleable.
 */
import { PicklingError } from '../errors.js';

/** Always rejects: writing files needs Node. */
export async function writeFileAtomic(path: string, _data: Uint8Array): Promise<void> {
  throw new PicklingError(`cannot write ${path}: writing files needs Node`, 'root', 'io');
}

/** Always rejects: writing files needs Node. */
export async function writeFileAtomicStreaming(path: string, _produce: unknown): Promise<void> {
  throw new PicklingError(`cannot write ${path}: writing files needs Node`, 'root', 'io');
}
