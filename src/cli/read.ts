/** Reading the CLI's inputs (files, or stdin as `-`) into memory, with progress reports. */
import { open } from 'node:fs/promises';
import { DEFAULT_LIMITS } from '../unpickle/options.js';
import { formatSize } from '../tools/show/size.js';

export { formatSize };

/** Bytes of one input, and where they came from. */
export interface Input {
  /** As given on the command line (`-` for stdin). */
  readonly name: string;
  /** Set for files (not for stdin). */
  readonly path: string | undefined;
  readonly data: Uint8Array;
}

/** How an input is named in messages: `<stdin>` for `-`. */
export function displayName(name: string): string {
  return name === '-' ? '<stdin>' : name;
}

/** A failure to read an input (exit status 3). */
export class InputError extends Error {
  override name = 'InputError';
}

export type Status = (text: string) => void;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
};

/** `no such file or directory` for a node errno error, its message otherwise. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code] as string;
  return e instanceof Error ? e.message : String(e);
}

/** Read a whole file, reporting progress through `status` (chunks of 8 MiB). */
export async function readFileWithStatus(path: string, status: Status | undefined): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError(`cannot read ${path}: is a directory`);
    if (st.size > DEFAULT_LIMITS.maxInputBytes) {
      throw new InputError(
        `cannot read ${path}: ${formatSize(st.size)} is larger than the ${formatSize(DEFAULT_LIMITS.maxInputBytes)} input limit`,
      );
    }
    if (!st.isFile()) {
      // FIFOs and character devices: read until EOF.
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const buf = new Uint8Array(1 << 20);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        chunks.push(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (total > DEFAULT_LIMITS.maxInputBytes)
          throw new InputError(`cannot read ${path}: input larger than the input limit`);
      }
      return concat(chunks, total);
    }
    const out = new Uint8Array(st.size);
    const CHUNK = 8 << 20;
    let pos = 0;
    while (pos < out.length) {
      const { bytesRead } = await fh.read(out, pos, Math.min(CHUNK, out.length - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      status?.(`reading ${path}: ${formatSize(pos)} of ${formatSize(out.length)}`);
    }
    return pos === out.length ? out : out.subarray(0, pos);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${path}: ${errnoText(e)}`);
  } finally {
    await fh.close();
  }
}

export function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** Read all of stdin into one buffer (pickle readers need random access). */
export async function readStdin(stream: NodeJS.ReadableStream, status?: Status): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const c = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
      chunks.push(c);
      total += c.length;
      if (total > DEFAULT_LIMITS.maxInputBytes)
        throw new InputError('cannot read stdin: input larger than the input limit');
      status?.(`reading stdin: ${formatSize(total)}`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read stdin: ${errnoText(e)}`);
  }
  return concat(chunks, total);
}
