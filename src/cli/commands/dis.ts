/**
 * `picklejar dis`: the opcode listing. Plain files are read in pieces (a window moves along the file,
 * array payloads are skipped with positioned reads), so memory stays small whatever the file size;
 * compressed joblib files are decompressed first.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  DisassemblyError,
  disassembleTo,
  memoryReader,
  type DisassembleOptions,
  type OpReader,
} from '../../tools/dis.js';
import { disassembleJoblib, sourceReader, type ByteSource } from '../../tools/dis-joblib.js';
import { decompressJoblib } from '../../joblib/compress.js';
import { DEFAULT_LIMITS } from '../../unpickle/options.js';
import { flag, intOption } from '../args.js';
import { containerOf } from '../container.js';
import { concat, errnoText, formatSize, InputError } from '../read.js';
import { disassembleArchive } from '../../tools/dis-archive.js';
import { isSafetensors } from '../../containers/safetensors.js';
import { MemorySource, type ByteSource as SourceOfBytes } from '../../bytes/source.js';
import type { Io } from '../specs.js';
import { displayName, getInput, type Runner } from './common.js';

/** A file read by position. */
function fileSource(fd: number, size: number): ByteSource {
  return {
    size,
    read(pos, length) {
      const buf = new Uint8Array(Math.max(0, length));
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      return got === buf.length ? buf : buf.subarray(0, got);
    },
  };
}

/** Open `name`: a regular file is read by position; anything else (a pipe, a device) is read whole. */
function openFile(name: string): { fd: number; size: number; regular: boolean } {
  let fd: number;
  try {
    fd = openSync(name, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${name}: ${errnoText(e)}`);
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    throw new InputError(`cannot read ${name}: is a directory`);
  }
  return { fd, size: st.size, regular: st.isFile() };
}

/** Everything a pipe or device gives until its end (within the input limit). */
function readToEnd(fd: number, name: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(1 << 20);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      throw new InputError(`cannot read ${name}: ${errnoText(e)}`);
    }
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > DEFAULT_LIMITS.maxInputBytes)
      throw new InputError(`cannot read ${name}: input larger than the input limit`);
  }
  return concat(chunks, total);
}

function list(reader: OpReader, options: DisassembleOptions, joblib: boolean, io: Io): void {
  const write = (t: string): void => {
    if (t) io.out(t);
  };
  try {
    if (joblib) disassembleJoblib(reader, options, write);
    else disassembleTo(reader, options, write);
  } catch (e) {
    if (e instanceof DisassemblyError) write(e.output);
    throw e;
  }
}

export const dis: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    const shown = displayName(name);
    const options: DisassembleOptions = {
      annotate: flag(p, 'annotate') ? 30 : 0,
      indentLevel: intOption(p, 'indentlevel', 4),
      all: flag(p, 'all'),
    };
    const joblib = !flag(p, 'pickletools');
    if (name === '-') return inMemory((await getInput(name, io)).data, shown, options, joblib, io);
    const file = openFile(name);
    try {
      if (!file.regular) return inMemory(readToEnd(file.fd, name), shown, options, joblib, io);
      const source = fileSource(file.fd, file.size);
      if (archive({ ...source, inMemory: false }, shown, options, io)) return 0;
      const kind = containerOf(source.read(0, 6));
      if (kind === 'npy')
        throw new InputError(`${shown} is a .npy file (a numpy array), not a pickle; try \`picklejar show\``);
      if (kind === undefined) {
        io.status(`disassembling ${shown} (${formatSize(file.size)})`);
        list(disassemblyReader(source), options, joblib, io);
        return 0;
      }
      // Compressed: the whole file is needed.
      if (file.size > DEFAULT_LIMITS.maxInputBytes)
        throw new InputError(
          `cannot read ${name}: ${formatSize(file.size)} is larger than the ${formatSize(DEFAULT_LIMITS.maxInputBytes)} input limit`,
        );
      io.status(`reading ${shown} (${formatSize(file.size)})`);
      return inMemory(source.read(0, file.size), shown, options, joblib, io);
    } finally {
      closeSync(file.fd);
    }
  },
};

/** Zip archives and legacy torch files: each pickle inside under a heading. False for other input. */
function archive(source: SourceOfBytes, shown: string, options: DisassembleOptions, io: Io): boolean {
  const head = source.read(0, Math.min(source.size, 512));
  if (isSafetensors(head, source.size))
    throw new InputError(
      `${shown} is a safetensors file (a JSON header and raw tensors, no pickle); try \`picklejar show\``,
    );
  const write = (t: string): void => {
    if (t) io.out(t);
  };
  io.status(`disassembling ${shown} (${formatSize(source.size)})`);
  try {
    return disassembleArchive(source, { ...options, all: false }, write, DEFAULT_LIMITS.maxInputBytes);
  } catch (e) {
    if (e instanceof DisassemblyError) write(e.output);
    throw e;
  }
}

function disassemblyReader(source: ByteSource): OpReader {
  // Small files are read whole (one read, and the fastest path for pickletools' own fixtures).
  if (source.size <= 1 << 20) return memoryReader(source.read(0, source.size));
  return sourceReader(source);
}

function inMemory(
  data: Uint8Array,
  shown: string,
  options: DisassembleOptions,
  joblib: boolean,
  io: Io,
): number {
  if (archive(new MemorySource(data), shown, options, io)) return 0;
  const kind = containerOf(data.subarray(0, 6));
  if (kind === 'npy')
    throw new InputError(`${shown} is a .npy file (a numpy array), not a pickle; try \`picklejar show\``);
  let plain = data;
  if (kind !== undefined) {
    io.err(`picklejar: note: ${shown} is ${kind}-compressed; listing the decompressed stream`);
    io.status(`decompressing ${shown} (${kind}, ${formatSize(data.length)})`);
    plain = decompressJoblib(data, DEFAULT_LIMITS.maxInputBytes) ?? data;
  }
  io.status(`disassembling ${shown} (${formatSize(plain.length)})`);
  list(memoryReader(plain), options, joblib, io);
  return 0;
}
