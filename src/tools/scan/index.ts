/**
 * A static security scanner for pickles: it walks the opcodes (never building or calling anything),
 * models the stack and memo just enough to know which globals a stream imports and how it uses them,
 * and grades every global against our own lists of dangerous and known-benign names.
 *
 * It understands several pickles in one buffer, joblib streams (raw array bytes after a
 * NumpyArrayWrapper's BUILD, nested pickles for object arrays) and, through a decompressor hook,
 * compressed joblib files.
 */
import { decompressJoblib } from '../../joblib/compress.js';
import { isNpy, parseNpyHeader } from '../../numpy/npy.js';
import { DEFAULT_LIMITS } from '../../unpickle/options.js';
import type { Policy, Verdict } from '../../unpickle/policy.js';
import { familySet } from '../../families.js';
import { sniffFormat } from '../../bytes/sniff.js';
import { finalize, walkAll } from './walker.js';
import { containerKind, picklesIn, sniffZip } from '../../containers/torch-archive.js';
import { ZipReader } from '../../containers/zip.js';
import type { ScanOptions, ScanReport, ScanUse } from './types.js';
import type { ByteSource } from '../../bytes/source.js';
import { sourceInput, type ScanInput } from './input.js';

export type { ScanGlobal, ScanOptions, ScanReport, ScanSeverity, ScanUse } from './types.js';

/**
 * Grade a global with the one policy table (plus `families`' rules): what `loads` refuses is what
 * this calls dangerous.
 * @example
 * classifyGlobal('os', 'system', 'called').severity; // 'dangerous'
 * classifyGlobal('numpy', 'dtype').severity;          // 'safe'
 */
export function classifyGlobal(
  module: string,
  name: string,
  use: ScanUse = 'referenced',
  families?: ScanOptions['families'],
): Verdict {
  return familySet(families).policy.classify(module, name, use);
}

/**
 * Scan an uncompressed stream: one or more pickles, or a joblib stream.
 * @example
 * scanStream(pickleBytes).globals; // [{ module: 'posix', name: 'system', use: 'called', severity: 'dangerous', … }]
 */
export function scanStream(data: Uint8Array, options: Pick<ScanOptions, 'families'> = {}): ScanReport {
  return scanPickles(data, false, familySet(options.families).policy);
}

/**
 * Scan an input read by position (a file of any size): uncompressed pickle and joblib streams are
 * walked through a window, stepping over joblib's array payloads, so memory stays near a megabyte;
 * zip archives (torch, TorchScript, .npz) by their central directory, reading only their pickles;
 * compressed files, .npy and legacy torch files are read whole and scanned as `scan` does (under
 * `maxBytes`, default limits.maxInputBytes).
 * @example
 * const src = FileSource.open('big.joblib'); try { scanSource(src) } finally { src.close() }
 */
export function scanSource(source: ByteSource, options: ScanOptions = {}): ScanReport {
  const head = source.read(0, Math.min(source.size, 1 << 16));
  // Zip archives by position: only their pickles are read, never tensor storages or array data.
  if (containerKind(head) === 'zip')
    return scanArchive(source, 'zip', familySet(options.families).policy, options);
  const plain = detectCompression(head) === undefined && !isNpy(head) && containerKind(head) === undefined;
  if (!plain || source.size <= 1 << 20) {
    const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxInputBytes;
    if (source.size > maxBytes) {
      return {
        dangerous: false,
        globals: [],
        pickles: 0,
        protocol: 0,
        errors: [
          `input of ${source.size} bytes exceeds the ${maxBytes}-byte limit (maxBytes); nothing was scanned`,
        ],
        arrays: 0,
        complete: false,
      };
    }
    return scan(source.read(0, source.size), options);
  }
  const policy = familySet(options.families).policy;
  return notAPickle(scanPickles(sourceInput(source), false, policy), head);
}

function scanPickles(data: Uint8Array | ScanInput, firstOnly: boolean, policy: Policy): ScanReport {
  const main = walkAll(data, policy, true, firstOnly);
  const globals = main.ctx.entries.map((e) => finalize(e, policy));
  if (main.ctx.payloads.length > 0) {
    // pickle.load (unlike joblib.load) would run the bytes joblib treats as array data as opcodes;
    // report anything dangerous that path reaches too.
    const plain = walkAll(data, policy, false, firstOnly);
    const seen = new Set(globals.map((x) => x.offset));
    for (const e of plain.ctx.entries) {
      const g = finalize(e, policy);
      if (g.severity === 'dangerous' && !seen.has(g.offset)) {
        g.reason = `${g.reason ?? ''}; reached only if the file is read with pickle.load (joblib treats these bytes as array data)`;
        globals.push(g);
      }
    }
    globals.sort((a, b) => a.offset - b.offset);
  }
  return {
    dangerous: globals.some((x) => x.severity === 'dangerous'),
    globals,
    pickles: main.pickles,
    protocol: main.protocol,
    errors: main.ctx.errors,
    arrays: main.ctx.arrays,
    complete: main.ctx.errors.length === 0,
  };
}

const COMPRESSION_MAGIC: readonly [string, number[]][] = [
  ['joblib-zfile', [0x5a, 0x46]],
  ['zlib', [0x78]],
  ['gzip', [0x1f, 0x8b]],
  ['bz2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression container `data` starts with, if any (joblib's detection order). */
function detectCompression(data: Uint8Array): string | undefined {
  for (const [name, magic] of COMPRESSION_MAGIC) {
    if (data.length >= magic.length && magic.every((b, i) => data[i] === b)) return name;
  }
  return undefined;
}

/**
 * Scan a pickle, several concatenated pickles, or a joblib file (compressed ones through
 * `options.decompress`). Nothing is evaluated.
 * @example
 * const report = scan(await readFile('upload.pkl'));
 * if (report.dangerous) throw new Error(report.globals.map((g) => `${g.module}.${g.name}`).join(', '));
 */
export function scan(data: Uint8Array, options: ScanOptions = {}): ScanReport {
  const policy = familySet(options.families).policy;
  const compression = detectCompression(data);
  if (compression !== undefined) {
    const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxInputBytes;
    const decompress = options.decompress ?? ((d: Uint8Array) => decompressJoblib(d, maxBytes));
    let inner: Uint8Array | undefined;
    let failure = 'no decompressor was available';
    try {
      inner = decompress(data);
    } catch (e) {
      failure = `decompression failed: ${(e as Error).message}`;
    }
    if (inner !== undefined) return { ...scanPickles(inner, false, policy), compression };
    return {
      dangerous: false,
      globals: [],
      pickles: 0,
      protocol: 0,
      errors: [`input looks ${compression}-compressed; ${failure}, so nothing was scanned`],
      arrays: 0,
      complete: false,
      compression,
    };
  }
  if (isNpy(data)) return scanNpy(data, policy);
  const kind = containerKind(data);
  if (kind === 'zip' || kind === 'legacy-torch') return scanArchive(data, kind, policy, options);
  return notAPickle(scanPickles(data, false, policy), data);
}

/**
 * Every pickle inside a zip archive (torch.save, TorchScript, .npz object arrays) or a legacy torch
 * file, scanned one by one; each global names the entry it was found in.
 */
function scanArchive(
  data: Uint8Array | ByteSource,
  kind: 'zip' | 'legacy-torch',
  policy: Policy,
  options: ScanOptions,
): ScanReport {
  const out: ScanReport = {
    dangerous: false,
    globals: [],
    pickles: 0,
    protocol: 0,
    errors: [],
    arrays: 0,
    complete: true,
    container: kind,
  };
  try {
    for (const { name, bytes } of picklesIn(data, options.maxBytes ?? DEFAULT_LIMITS.maxInputBytes)) {
      const r = name.endsWith('.npy') ? scanPickles(bytes, true, policy) : scanPickles(bytes, false, policy);
      out.globals.push(...r.globals.map((g) => ({ ...g, entry: name })));
      out.errors.push(...r.errors.map((e) => `${name}: ${e}`));
      out.pickles += r.pickles;
      out.protocol = Math.max(out.protocol, r.protocol);
      out.arrays += r.arrays;
      out.complete &&= r.complete;
    }
    if (kind === 'zip' && out.pickles === 0) {
      const zip = ZipReader.open(data);
      if (sniffZip(zip).kind === 'zip') {
        const names = zip.entries.slice(0, 5).map((e) => e.name);
        out.errors.push(
          `not a pickle: this is a zip archive with no torch data or .npy arrays (${names.join(', ')}${zip.entries.length > 5 ? ', …' : ''})`,
        );
        out.complete = false;
      }
    }
  } catch (e) {
    out.errors.push(
      `${kind === 'zip' ? 'zip archive' : 'legacy torch file'} could not be read: ${(e as Error).message}`,
    );
    out.complete = false;
  }
  out.dangerous = out.globals.some((g) => g.severity === 'dangerous');
  return out;
}

/** A report of bytes that are not a pickle at all says what they are (see src/bytes/sniff.ts). */
function notAPickle(report: ScanReport, data: Uint8Array): ScanReport {
  if (report.complete || report.pickles > 0) return report;
  const found = sniffFormat(data);
  if (found === undefined || (found.what.includes('text') && !/^offset 0\b/.test(report.errors[0] ?? '')))
    return report;
  return { ...report, errors: [`not a pickle: this is ${found.what}; ${found.hint}`, ...report.errors] };
}

/**
 * A .npy file is not a pickle (its magic byte 0x93 would read as STACK_GLOBAL): only an object array
 * holds one, right after the header. Offsets are reported in file bytes.
 */
function scanNpy(data: Uint8Array, policy: Policy): ScanReport {
  let dataOffset: number;
  let hasObject: boolean;
  try {
    const h = parseNpyHeader(data);
    dataOffset = h.dataOffset;
    hasObject = h.dtype.hasObject;
  } catch (e) {
    const errors = [`malformed .npy file: ${(e as Error).message}`];
    return { dangerous: false, globals: [], pickles: 0, protocol: 0, errors, arrays: 0, complete: false };
  }
  if (!hasObject)
    return { dangerous: false, globals: [], pickles: 0, protocol: 0, errors: [], arrays: 1, complete: true };
  // np.load unpickles one pickle and ignores what follows (old numpy left a newline there).
  const inner = scanPickles(data.subarray(dataOffset), true, policy);
  return { ...inner, globals: inner.globals.map((g) => ({ ...g, offset: g.offset + dataOffset })) };
}
