/**
 * Opcode listings of the pickles inside containers: each `.pkl` entry of a zip archive (torch.save,
 * TorchScript) and each object array's pickle in an `.npz`, under a heading line; the five pickles of
 * a legacy torch file (offsets counted from the start of the file, as repeated `pickletools.dis(f)`
 * calls on one open file print them), then a line about the raw storages that follow them.
 */
import { UnpicklingError } from '../errors.js';
import { isNpy, parseNpyHeader } from '../numpy/npy.js';
import { ZipReader } from '../containers/zip.js';
import { isLegacyTorch, picklesIn, sniffZip } from '../containers/torch-archive.js';
import type { ByteSource } from '../bytes/source.js';
import { formatSize } from './show/size.js';
import { disassembleTo, memoryReader, type DisassembleOptions, type OpReader } from './dis.js';
import { genops, readOp } from './genops.js';
import { dtypeText, shapeText } from './show/format.js';

const LEGACY_TITLES: Readonly<Record<string, string>> = {
  'legacy:magic': 'magic number',
  'legacy:protocol_version': 'protocol version',
  'legacy:sys_info': 'sys_info',
  'legacy:object': 'the saved object',
  'legacy:storage_keys': 'storage keys',
};

/** A reader of the pickle that starts at `base` of `data`, with offsets counted from the start of `data`. */
function readerAt(data: Uint8Array, base: number): OpReader {
  return {
    length: data.length,
    // The listing asks for the first opcode at 0: that is the pickle's start; later offsets are absolute.
    readOp: (pos) => readOp(data, pos === 0 ? base : pos),
    bytes: (pos, n) => data.subarray(pos, pos + n),
  };
}

/**
 * List the pickles of a zip archive (torch.save, TorchScript, .npz) or a legacy torch file, each
 * under a `--- name ---` heading, handing text to `write`. Returns false when `src` is neither (the
 * caller lists it as a plain pickle). Throws DisassemblyError where pickletools would raise, its
 * `output` holding the text not yet written.
 * @example
 * disassembleArchive(new MemorySource(bytes), {}, (t) => process.stdout.write(t));
 */
export function disassembleArchive(
  src: ByteSource,
  options: DisassembleOptions,
  write: (text: string) => void,
  maxBytes = Number.MAX_SAFE_INTEGER,
): boolean {
  const head = src.read(0, Math.min(src.size, 512));
  const zipHead = head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b;
  if (zipHead) {
    listZip(ZipReader.open(src), options, write, maxBytes);
    return true;
  }
  if (!isLegacyTorch(head)) return false;
  if (src.size > maxBytes)
    throw new UnpicklingError(
      `legacy torch file of ${src.size} bytes exceeds the input limit (${maxBytes})`,
      -1,
      undefined,
      'limit',
    );
  listLegacy(src.read(0, src.size), options, write);
  return true;
}

function listZip(
  zip: ZipReader,
  options: DisassembleOptions,
  write: (text: string) => void,
  maxBytes: number,
): void {
  const { kind, prefix } = sniffZip(zip);
  const one = { ...options, all: false };
  let storages = 0;
  let storageBytes = 0;
  let listed = 0;
  for (const e of zip.entries) {
    if (e.name.endsWith('.pkl')) {
      write(`--- ${e.name} ---\n`);
      disassembleTo(memoryReader(zip.read(e, maxBytes)), one, write);
      listed++;
    } else if (kind === 'npz' && e.name.endsWith('.npy')) {
      const bytes = zip.read(e, maxBytes);
      if (!isNpy(bytes)) {
        write(`--- ${e.name}: not a .npy file ---\n`);
        continue;
      }
      const h = parseNpyHeader(bytes);
      if (h.dtype.hasObject) {
        write(
          `--- ${e.name}: object array ${shapeText(h.shape)}, its pickle (offsets from byte ${h.dataOffset}) ---\n`,
        );
        disassembleTo(memoryReader(bytes.subarray(h.dataOffset)), one, write);
        listed++;
      } else write(`--- ${e.name}: ${dtypeText(h.dtype)} ${shapeText(h.shape)} array data, no pickle ---\n`);
    } else if (
      prefix !== '' &&
      (e.name.startsWith(`${prefix}/data/`) || e.name.startsWith(`${prefix}/constants/`))
    ) {
      storages++;
      storageBytes += e.size;
    }
  }
  if (storages > 0)
    write(
      `--- ${storages} storage entr${storages === 1 ? 'y' : 'ies'} (${formatSize(storageBytes)} of raw tensor data, not pickles) ---\n`,
    );
  if (listed === 0 && kind !== 'npz') write(`--- no pickle entries (${zip.entries.length} entries) ---\n`);
}

function listLegacy(data: Uint8Array, options: DisassembleOptions, write: (text: string) => void): void {
  const one = { ...options, all: false };
  let end = 0;
  let keys: number | undefined;
  for (const { name, bytes } of picklesIn(data)) {
    const base = bytes.byteOffset - data.byteOffset;
    write(`--- ${LEGACY_TITLES[name] ?? name} (byte ${base}) ---\n`);
    disassembleTo(readerAt(data, base), one, write);
    end = base + bytes.length;
    if (name === 'legacy:storage_keys') keys = countKeys(bytes);
  }
  const rest = data.length - end;
  const what = keys === undefined ? 'raw storages' : `${keys} raw storage${keys === 1 ? '' : 's'}`;
  write(
    `--- ${what}: ${formatSize(rest)} from byte ${end} to the end (element count, then bytes; not pickles) ---\n`,
  );
}

/** The number of keys the storage-key pickle lists (its APPEND/APPENDS'd strings). */
function countKeys(pickle: Uint8Array): number | undefined {
  let n = 0;
  try {
    for (const op of genops(pickle, 0, { lenient: true }))
      if (/UNICODE|STRING/.test(op.op.name) && typeof op.arg === 'string') n++;
  } catch {
    return undefined;
  }
  return n;
}
