/**
 * Node only: `dumpJoblib(path, value)`, streamed. The joblib stream goes to the file as it is
 * produced, compressed on the way, so memory holds a block and the user's own arrays, never the file:
 * - no compression: straight to the file;
 * - lzma / xz: liblzma's incremental encoder (one stream, the bytes one call would give);
 * - bz2 / lz4 / zstd: 32 MiB blocks, each a complete stream, concatenated (joblib reads bzip2
 *   streams and lz4 frames back to back; a file under one block is what one call would write);
 * - zlib / gzip: joblib's zlib reader stops at the first stream, and node:zlib has no synchronous
 *   incremental API, so the uncompressed stream is written to a temporary file first and then
 *   compressed from it by node:zlib's stream into the target (one stream, the bytes one call gives).
 * Either way the file appears only when complete.
 */
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDeflate, createGzip } from 'node:zlib';
import { writeFileAtomicStreaming } from '../bytes/atomic.js';
import type { ByteSink } from '../bytes/writer.js';
import { ready } from '../codecs/index.js';
import { lzmaStreamEncoder } from '../codecs/lzma.node.js';
import { CompressingSink, resolveCompression, writeJoblibStream, type JoblibDumpOptions } from './write.js';

/**
 * Write a joblib file at `path`: through a temporary file in the same folder renamed over `path`,
 * so no reader ever sees a half-written file. The extension picks the compressor when `compress` is
 * not a [method, level] pair (`.z .gz .bz2 .lzma .xz .lz4`), as joblib.dump does; zstd only when named
 * (`compress: ['zstd', 3]`), since released joblib cannot load it.
 * @example
 * await dumpJoblib('model.joblib', value, { compress: ['xz', 3] });
 */
export async function dumpJoblib(
  path: string,
  value: unknown,
  options: JoblibDumpOptions = {},
): Promise<void> {
  const { compress, ...rest } = options;
  const c = resolveCompression(compress, path);
  if (c && (c[0] === 'bz2' || c[0] === 'zstd')) await ready(); // their encoders are WebAssembly
  if (c !== undefined && (c[0] === 'zlib' || c[0] === 'gzip')) {
    const [method, level] = c;
    const staging = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.stream`,
    );
    try {
      await writeFileAtomicStreaming(staging, (file) => {
        writeJoblibStream(value, rest, file);
      });
      await writeFileAtomicStreaming(path, (file) => deflateFile(staging, method, level, file));
    } finally {
      await unlink(staging).catch(() => undefined);
    }
    return;
  }
  await writeFileAtomicStreaming(path, (file) => {
    let sink: ByteSink = file;
    let end = (): void => undefined;
    if (c !== undefined && (c[0] === 'lzma' || c[0] === 'xz')) {
      const enc = lzmaStreamEncoder(c[1], c[0] === 'xz');
      sink = { write: (chunk) => enc.push(chunk).forEach((o) => file.write(o)) };
      end = () => enc.end().forEach((o) => file.write(o));
    } else if (c !== undefined) {
      const blocks = new CompressingSink(c[0], c[1], file);
      sink = blocks;
      end = () => blocks.end();
    }
    writeJoblibStream(value, rest, sink);
    end();
  });
}

/** Compress the file at `from` into `to` with node:zlib's stream (zlib or gzip, one stream). */
async function deflateFile(
  from: string,
  method: 'zlib' | 'gzip',
  level: number,
  to: ByteSink,
): Promise<void> {
  const z =
    method === 'zlib'
      ? createDeflate({ level, chunkSize: 1 << 20 })
      : createGzip({ level, chunkSize: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(from, { highWaterMark: 1 << 20 });
    input.on('error', reject);
    z.on('error', reject);
    z.on('data', (chunk: Buffer) => to.write(chunk));
    z.on('end', resolve);
    input.pipe(z);
  });
}
