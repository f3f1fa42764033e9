/**
 * Single-file containers built on pickle: torch.save zip archives, TorchScript archives, `.npz`
 * files, legacy (pre-1.6 layout) torch files; and clear refusals for the formats picklejar does not
 * read (torch.package, torch.export, the pre-0.4 tar, other zips). docs/FORMATS.md §8 and §4.6.
 *
 * Storages are resolved through the decoder's `persistentLoad` hook: each archive key becomes one
 * `Storage` whose bytes are read on first use (a view of the input when it is in memory).
 */
import { UnpicklingError } from '../errors.js';
import { Machine, resolveOptions } from '../unpickle/decoder.js';
import { DEFAULT_LIMITS, type LoadOptions } from '../unpickle/options.js';
import type { FamilySet } from '../family.js';
import { PyGlobal } from '../python/values.js';
import { genops } from '../tools/genops.js';
import { readNpy, isNpy, parseNpyHeader } from '../numpy/npy.js';
import { checkShape, lazyNDArray, type NDArray } from '../numpy/ndarray.js';
import { Storage } from '../torch/storage.js';
import { StorageType, storageTypeOf } from '../torch/rebuild.js';
import { dtypeInfo } from '../torch/dtypes.js';
import { ZipReader, isZip, type ZipEntry } from './zip.js';
import { MemorySource, readOwn, type ByteSource } from '../bytes/source.js';
import { TorchScriptArchive } from './torchscript-archive.js';

export { TorchScriptArchive };

/** Decoding context shared by the container readers. */
export interface ContainerContext {
  readonly options: LoadOptions | undefined;
  readonly families: FamilySet;
}

function maxBytesOf(options: LoadOptions | undefined): number {
  return options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
}

function corrupt(message: string): UnpicklingError {
  return new UnpicklingError(`corrupt torch archive: ${message}`, -1, undefined, 'corrupt');
}

function wrongFormat(
  message: string,
  code: 'wrong-format' | 'unsupported' = 'wrong-format',
): UnpicklingError {
  return new UnpicklingError(message, -1, undefined, code);
}

/** Decode one pickle of `data` from `start` with a persistentLoad hook; returns value and end. */
function decodeAt(
  data: Uint8Array,
  start: number,
  cx: ContainerContext,
  persistentLoad?: (pid: unknown) => unknown,
): { value: unknown; end: number } {
  const opts = persistentLoad ? { ...cx.options, persistentLoad } : cx.options;
  const resolved = resolveOptions(opts, cx.families);
  if (start >= data.length)
    throw new UnpicklingError('pickle data was truncated (empty input)', start, undefined, 'truncated');
  return new Machine(data, resolved).run(start);
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return String.fromCharCode(...v); // Python 2 files: bytes names
  return undefined;
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/** The element dtype of a storage type in a persistent id. */
function storageDtype(t: unknown): string {
  if (t instanceof StorageType) return t.dtype;
  if (t instanceof PyGlobal) {
    // torch resolves any global whose name ends in Storage by its name, whatever the module.
    const st = storageTypeOf(t.module, t.name);
    if (st) return st.dtype;
  }
  if (typeof t === 'string') {
    const st = storageTypeOf('torch', t);
    if (st) return st.dtype;
  }
  throw corrupt(
    `persistent id names ${t instanceof PyGlobal ? t.qualifiedName : typeof t}, not a storage class`,
  );
}

/** Parsed `('storage', type, key, location, numel[, view_metadata])`. */
interface StoragePid {
  readonly dtype: string;
  readonly key: string;
  readonly location: string;
  readonly numel: number;
  readonly nbytes: number;
  readonly view: unknown;
  readonly untyped: boolean;
}

function parseStoragePid(pid: unknown): StoragePid | { module: unknown } {
  if (!Array.isArray(pid) || pid.length < 1) throw corrupt('a persistent id is not a tuple');
  const tag = text(pid[0]);
  if (tag === 'module' && pid.length >= 2) return { module: pid[1] };
  if (tag !== 'storage' || pid.length < 5) throw corrupt(`unsupported persistent id ${JSON.stringify(tag)}`);
  const dtype = storageDtype(pid[1]);
  const key = text(pid[2]);
  const location = text(pid[3]) ?? 'cpu';
  const numel = toInt(pid[4]);
  if (key === undefined || numel === undefined) throw corrupt('a storage persistent id has no key or size');
  const info = dtypeInfo(dtype);
  if (!info) throw corrupt(`unknown storage dtype ${dtype}`);
  const nbytes = numel * info.itemsize;
  if (!Number.isSafeInteger(nbytes)) throw corrupt(`storage ${key} is too large`);
  const untyped =
    (pid[1] instanceof StorageType || pid[1] instanceof PyGlobal) && /UntypedStorage$/.test(pid[1].name);
  return { dtype, key, location, numel, nbytes, view: pid[5], untyped };
}

// ---------------------------------------------------------------------------------------------
// Zip archives
// ---------------------------------------------------------------------------------------------

/** What a zip holds. */
export type ZipKind =
  'torch' | 'torchscript' | 'npz' | 'torch.package' | 'torch.export' | 'torchscript-v1' | 'zip';

/** Classify a zip by its entries; `prefix` is the folder torch archives live under. */
export function sniffZip(zip: ZipReader): { kind: ZipKind; prefix: string } {
  const names = zip.entries.map((e) => e.name);
  const first = names[0] ?? '';
  const slash = first.indexOf('/');
  const prefix = slash >= 0 ? first.slice(0, slash) : '';
  const has = (n: string): boolean => zip.get(`${prefix}/${n}`) !== undefined;
  if (names.some((n) => n === 'archive_format' || n.endsWith('/archive_format')))
    return { kind: 'torch.export', prefix };
  if (prefix !== '' && has('data.pkl') && has('constants.pkl')) return { kind: 'torchscript', prefix };
  if (prefix !== '' && has('data.pkl')) return { kind: 'torch', prefix };
  if (names.some((n) => n === '.data/version' || n.endsWith('/.data/version')))
    return { kind: 'torch.package', prefix };
  if (prefix !== '' && has('model.json') && has('attributes.pkl')) return { kind: 'torchscript-v1', prefix };
  if (names.every((n) => n.endsWith('.npy'))) return { kind: 'npz', prefix: '' };
  return { kind: 'zip', prefix };
}

/**
 * Lazy mode: a stored `.npy` entry of a file whose array is read only when first used (the header
 * now); undefined for deflated entries, object arrays and bytes in memory (read eagerly).
 */
function lazyNpyEntry(zip: ZipReader, e: ZipEntry, cx: ContainerContext): NDArray | undefined {
  if (cx.options?.lazy !== true || zip.source.inMemory || e.method !== 0 || e.compressedSize !== e.size)
    return undefined;
  const start = zip.dataOffset(e);
  const head = zip.source.read(start, Math.min(e.size, 1 << 16));
  if (!isNpy(head)) return undefined;
  const h = parseNpyHeader(head);
  if (h.dtype.hasObject) return undefined;
  const need = checkShape(h.shape, h.dtype.itemsize) * h.dtype.itemsize;
  if (e.size - h.dataOffset < need) {
    throw new UnpicklingError(
      `npz entry ${e.name}: data has ${e.size - h.dataOffset} bytes, shape needs ${need}`,
      -1,
      undefined,
      'corrupt',
    );
  }
  const shared = cx.options.sharedMemory === true;
  return lazyNDArray(h.dtype, h.shape, h.fortranOrder ? 'F' : 'C', need, () =>
    readOwn(zip.source, start + h.dataOffset, need, shared),
  );
}

/** Read the `byteorder` entry (torch >= 2.1); absent means little-endian. */
function byteOrderOf(zip: ZipReader, prefix: string): 'little' | 'big' {
  const e = zip.get(`${prefix}/byteorder`);
  if (!e) return 'little';
  const v = new TextDecoder().decode(zip.read(e, 64)).trim();
  if (v !== 'little' && v !== 'big') throw corrupt(`byteorder entry says ${JSON.stringify(v)}`);
  return v;
}

/** Storages of one archive folder (`data/` or `constants/`), shared by key. */
function storageLoader(
  zip: ZipReader,
  prefix: string,
  folder: string,
  byteOrder: 'little' | 'big',
  maxBytes: number,
  made: Storage[],
  shared = false,
): (pid: unknown) => unknown {
  const storages = new Map<string, Storage>();
  return (pid) => {
    const p = parseStoragePid(pid);
    if ('module' in p) return p.module;
    const seen = storages.get(p.key);
    if (seen) return seen;
    const name = `${prefix}/${folder}/${p.key}`;
    const entry = zip.get(name);
    if (!entry) throw corrupt(`storage ${p.key} has no entry ${name}`);
    if (entry.size !== p.nbytes)
      throw corrupt(`entry ${name} has ${entry.size} bytes, its persistent id says ${p.nbytes}`);
    const s = new Storage({
      dtype: p.dtype,
      nbytes: p.nbytes,
      key: p.key,
      location: p.location,
      byteOrder,
      untyped: p.untyped,
      load: () =>
        shared || !zip.source.inMemory ? zip.readOwn(entry, maxBytes, shared) : zip.read(entry, maxBytes),
    });
    storages.set(p.key, s);
    made.push(s);
    return s;
  };
}

function readPickleEntry(
  zip: ZipReader,
  entry: ZipEntry,
  cx: ContainerContext,
  persistentLoad: (pid: unknown) => unknown,
): unknown {
  const bytes = zip.read(entry, maxBytesOf(cx.options));
  return decodeAt(bytes, 0, cx, persistentLoad).value;
}

/**
 * Decode a zip archive: a torch.save archive (its object), a TorchScript archive
 * (`TorchScriptArchive`), or an `.npz` (a Map name → NDArray); anything else is refused with a
 * message saying what it is. `storages` receives every Storage made (so a file reader can load
 * them before closing the file).
 */
export function loadZip(zip: ZipReader, cx: ContainerContext, storages: Storage[] = []): unknown {
  const { kind, prefix } = sniffZip(zip);
  const maxBytes = maxBytesOf(cx.options);
  switch (kind) {
    case 'torch': {
      const order = byteOrderOf(zip, prefix);
      return readPickleEntry(
        zip,
        zip.get(`${prefix}/data.pkl`) as ZipEntry,
        cx,
        storageLoader(zip, prefix, 'data', order, maxBytes, storages, cx.options?.sharedMemory === true),
      );
    }
    case 'torchscript': {
      const order = byteOrderOf(zip, prefix);
      const module = readPickleEntry(
        zip,
        zip.get(`${prefix}/data.pkl`) as ZipEntry,
        cx,
        storageLoader(zip, prefix, 'data', order, maxBytes, storages, cx.options?.sharedMemory === true),
      );
      const constants = readPickleEntry(
        zip,
        zip.get(`${prefix}/constants.pkl`) as ZipEntry,
        cx,
        storageLoader(zip, prefix, 'constants', order, maxBytes, storages, cx.options?.sharedMemory === true),
      );
      const extra = new Map<string, Uint8Array>();
      for (const e of zip.entries)
        if (e.name.startsWith(`${prefix}/extra/`))
          extra.set(e.name.slice(prefix.length + 7), zip.read(e, maxBytes));
      return new TorchScriptArchive(module, constants, extra);
    }
    case 'npz': {
      const out = new Map<string, NDArray | unknown>();
      for (const e of zip.entries) {
        const lazy = lazyNpyEntry(zip, e, cx);
        if (lazy !== undefined) {
          out.set(e.name.slice(0, -4), lazy);
          continue;
        }
        const bytes = zip.read(e, maxBytes);
        if (!isNpy(bytes))
          throw new UnpicklingError(`npz entry ${e.name} is not a .npy file`, -1, undefined, 'corrupt');
        out.set(
          e.name.slice(0, -4),
          readNpy(bytes, (p) => decodeAt(p, 0, cx).value),
        );
      }
      return out;
    }
    case 'torch.package':
      throw wrongFormat(
        'a torch.package archive (.data/version, no data.pkl): it holds Python source to import and run, which picklejar does not do',
        'unsupported',
      );
    case 'torch.export':
      throw wrongFormat(
        'a torch.export (pt2) archive: an exported program, not a pickled object; picklejar does not read it',
        'unsupported',
      );
    case 'torchscript-v1':
      throw wrongFormat(
        'an old TorchScript archive (model.json + attributes.pkl, torch < 1.4); load and save it again with a newer torch',
        'unsupported',
      );
    default: {
      const names = zip.entries.slice(0, 5).map((e) => e.name);
      throw wrongFormat(
        `a zip archive that is no torch.save archive, TorchScript archive or .npz (entries: ${names.join(', ')}${zip.entries.length > 5 ? ', …' : ''})`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Legacy torch files (torch < 1.6, or _use_new_zipfile_serialization=False)
// ---------------------------------------------------------------------------------------------

/** The magic number the legacy format starts with, as its 10 little-endian bytes. */
const MAGIC_LE = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const MAGIC_DECIMAL = '119547037146038801333356';

/**
 * True when `data`'s first pickle is the legacy torch magic number (docs/FORMATS.md §8.4): checked by
 * reading that pickle's opcodes (PROTO, FRAME, then LONG1 or a text LONG, then STOP), which covers
 * every pickle protocol without decoding the rest of the file.
 */
export function isLegacyTorch(data: Uint8Array): boolean {
  let p = 0;
  if (data[p] === 0x80) p += 2; // PROTO n
  if (data[p] === 0x95) p += 9; // FRAME n
  if (data[p] === 0x8a && data[p + 1] === 10) {
    for (let i = 0; i < 10; i++) if (data[p + 2 + i] !== MAGIC_LE[i]) return false;
    return data[p + 12] === 0x2e;
  }
  if (data[p] === 0x4c) {
    // LONG: 'L' decimal ['L'] '\n'
    const want = `L${MAGIC_DECIMAL}`;
    for (let i = 0; i < want.length; i++) if (data[p + i] !== want.charCodeAt(i)) return false;
    let q = p + want.length;
    if (data[q] === 0x4c) q++;
    return data[q] === 0x0a && data[q + 1] === 0x2e;
  }
  return false;
}

/** Decode a legacy torch file: magic, protocol version, sys_info, the object, keys, raw storages. */
export function loadLegacyTorch(data: Uint8Array, cx: ContainerContext): unknown {
  let pos = decodeAt(data, 0, cx).end;
  const version = decodeAt(data, pos, cx);
  if (toInt(version.value) !== 1001)
    throw corrupt(`legacy protocol version ${String(version.value)}, expected 1001`);
  pos = decodeAt(data, version.end, cx).end; // sys_info: torch reads storages little-endian regardless
  const roots = new Map<string, { storage: Storage; bytes?: Uint8Array }>();
  const views = new Map<string, Storage>();
  const sizeOf = new Map<string, number>();
  const obj = decodeAt(data, pos, cx, (pid) => {
    const p = parseStoragePid(pid);
    if ('module' in p) return p.module;
    let root = roots.get(p.key);
    if (!root) {
      const slot: { storage: Storage; bytes?: Uint8Array } = {
        storage: new Storage({
          dtype: p.dtype,
          nbytes: p.nbytes,
          key: p.key,
          location: p.location,
          load: () => {
            if (!slot.bytes) throw corrupt(`storage ${p.key} has no data in the file`);
            return slot.bytes;
          },
        }),
      };
      root = slot;
      roots.set(p.key, root);
      sizeOf.set(p.key, (dtypeInfo(p.dtype) as { itemsize: number }).itemsize);
    }
    if (p.view === null || p.view === undefined) return root.storage;
    // (view_key, offset, view_numel) in elements of the root storage (torch < 1.0 writers).
    const v = p.view;
    if (!Array.isArray(v) || v.length !== 3) throw corrupt('bad view metadata in a persistent id');
    const viewKey = text(v[0]);
    const off = toInt(v[1]);
    const n = toInt(v[2]);
    if (viewKey === undefined || off === undefined || n === undefined)
      throw corrupt('bad view metadata in a persistent id');
    let view = views.get(viewKey);
    if (!view) {
      const size = sizeOf.get(p.key) as number;
      if ((off + n) * size > root.storage.nbytes)
        throw corrupt(`view ${viewKey} reaches past storage ${p.key}`);
      const base = root.storage;
      view = new Storage({
        dtype: p.dtype,
        nbytes: n * size,
        key: viewKey,
        location: p.location,
        load: () => base.bytes.subarray(off * size, (off + n) * size),
      });
      views.set(viewKey, view);
    }
    return view;
  });
  const keys = decodeAt(data, obj.end, cx);
  if (!Array.isArray(keys.value)) throw corrupt('the storage key list is not a list');
  let at = keys.end;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const k of keys.value) {
    const key = text(k);
    if (key === undefined) throw corrupt('a storage key is not a string');
    const root = roots.get(key);
    if (!root) throw corrupt(`storage ${key} is listed but no tensor uses it (its element size is unknown)`);
    if (at + 8 > data.length)
      throw new UnpicklingError(`torch file truncated in storage ${key}`, at, undefined, 'truncated');
    const count = view.getBigInt64(at, true);
    const nbytes = Number(count) * (sizeOf.get(key) as number);
    if (count < 0n || nbytes !== root.storage.nbytes)
      throw corrupt(
        `storage ${key} holds ${count} elements, its persistent id says ${root.storage.nbytes / (sizeOf.get(key) as number)}`,
      );
    at += 8;
    if (at + nbytes > data.length)
      throw new UnpicklingError(`torch file truncated in storage ${key}`, at, undefined, 'truncated');
    root.bytes = data.subarray(at, at + nbytes);
    at += nbytes;
  }
  return obj.value;
}

// ---------------------------------------------------------------------------------------------
// Dispatch and scanning support
// ---------------------------------------------------------------------------------------------

/** True for a POSIX tar (`ustar` at 257). */
function isTar(data: Uint8Array): boolean {
  return (
    data.length >= 512 &&
    data[257] === 0x75 &&
    data[258] === 0x73 &&
    data[259] === 0x74 &&
    data[260] === 0x61 &&
    data[261] === 0x72
  );
}

/** Refuse a tar, naming the old torch layout when its members are torch's. */
function refuseTar(data: Uint8Array): never {
  const name = new TextDecoder().decode(data.subarray(0, 100)).replace(/\0.*$/s, '');
  if (['storages', 'tensors', 'pickle', 'sys_info'].includes(name)) {
    throw wrongFormat(
      'a tar archive in the torch < 0.4 serialization format (members sys_info, pickle, storages, tensors), which picklejar does not read; load it with torch and save it again',
      'unsupported',
    );
  }
  throw wrongFormat('a tar archive, not a pickle (picklejar does not read tar files)');
}

/**
 * The container `data` is, when it is one picklejar reads as a whole file (not a plain pickle):
 * 'zip', 'legacy-torch' or 'tar'; undefined otherwise.
 */
export function containerKind(data: Uint8Array): 'zip' | 'legacy-torch' | 'tar' | undefined {
  if (isZip(data)) return 'zip';
  if (isLegacyTorch(data)) return 'legacy-torch';
  if (isTar(data)) return 'tar';
  return undefined;
}

/**
 * Decode a container from bytes or a source (see `containerKind`). Zip archives are read through
 * the source (positioned reads for files); legacy files need their bytes in memory.
 */
export function loadContainer(
  input: Uint8Array | ByteSource,
  cx: ContainerContext,
  storages?: Storage[],
): unknown {
  const src = input instanceof Uint8Array ? new MemorySource(input) : input;
  const kind = containerKind(src.read(0, Math.min(src.size, 512)));
  if (kind === 'zip') return loadZip(ZipReader.open(src), cx, storages);
  const all = input instanceof Uint8Array ? input : src.read(0, src.size);
  if (kind === 'legacy-torch' || isLegacyTorch(all)) return loadLegacyTorch(all, cx);
  if (kind === 'tar') refuseTar(all);
  throw wrongFormat('not a zip, legacy torch file or tar');
}

/** One pickle found inside a container (for scanning). */
export interface EmbeddedPickle {
  /** Entry name (zip) or role (`legacy:object`) of the pickle. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

const LEGACY_ROLES = ['magic', 'protocol_version', 'sys_info', 'object', 'storage_keys'];

/**
 * Every pickle inside a zip archive (each `.pkl` entry, and the pickles of `.npy` entries holding
 * object arrays) or a legacy torch file (its five pickles), without decoding any of them: for
 * `scan`. Yields nothing for other input.
 * @example
 * for (const { name, bytes } of picklesIn(data)) report(name, scan(bytes));
 */
export function* picklesIn(
  input: Uint8Array | ByteSource,
  maxBytes = DEFAULT_LIMITS.maxInputBytes,
): Generator<EmbeddedPickle> {
  const src = input instanceof Uint8Array ? new MemorySource(input) : input;
  const head = src.read(0, Math.min(src.size, 64));
  if (isZip(head)) {
    // Only the pickles are read: tensor storages and numeric .npy payloads stay where they are.
    const zip = ZipReader.open(src);
    for (const e of zip.entries) {
      if (e.name.endsWith('.pkl')) yield { name: e.name, bytes: zip.read(e, maxBytes) };
      else if (e.name.endsWith('.npy')) {
        const bytes = npyPickle(zip, e, maxBytes);
        if (bytes !== undefined) yield { name: e.name, bytes };
      }
    }
    return;
  }
  if (isLegacyTorch(head)) {
    if (src.size > maxBytes) throw tooLarge('legacy torch file', src.size, maxBytes);
    const data = src.read(0, src.size);
    // Pickle boundaries need a parse; the opcode walk of genops-like skipping is done by decoding
    // with no families, which keeps every global inert and never resolves storages.
    let pos = 0;
    for (const role of LEGACY_ROLES) {
      if (pos >= data.length) return;
      const end = pickleEnd(data, pos);
      yield { name: `legacy:${role}`, bytes: data.subarray(pos, end) };
      pos = end;
    }
  }
}

/**
 * The pickle of an object-dtype `.npy` entry, else undefined. A stored entry's header is read on its
 * own, so a numeric array's data is never read; a deflated one must be inflated whole.
 */
function npyPickle(zip: ZipReader, e: ZipEntry, maxBytes: number): Uint8Array | undefined {
  if (e.method === 0 && e.compressedSize === e.size) {
    const at = zip.dataOffset(e);
    const first = zip.source.read(at, Math.min(e.size, 12));
    if (!isNpy(first) || first.length < 10) return undefined;
    const view = new DataView(first.buffer, first.byteOffset, first.length);
    const headerEnd =
      first[6] === 1 ? 10 + view.getUint16(8, true) : first.length >= 12 ? 12 + view.getUint32(8, true) : 0;
    const h = parseNpyHeader(zip.source.read(at, Math.min(e.size, headerEnd)));
    if (!h.dtype.hasObject) return undefined;
    if (e.size > maxBytes) throw tooLarge(`zip entry ${e.name}`, e.size, maxBytes);
    return zip.source.read(at + h.dataOffset, e.size - h.dataOffset);
  }
  const bytes = zip.read(e, maxBytes);
  if (!isNpy(bytes)) return undefined;
  const h = parseNpyHeader(bytes);
  return h.dtype.hasObject ? bytes.subarray(h.dataOffset) : undefined;
}

function tooLarge(what: string, size: number, maxBytes: number): UnpicklingError {
  return new UnpicklingError(
    `${what} of ${size} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`,
    -1,
    undefined,
    'limit',
  );
}

/**
 * Offset just past the STOP of the pickle starting at `pos`: an opcode walk that builds nothing (a
 * decode would trip over what persistent ids stand for, e.g. NEWOBJ of a `('module', …)` id).
 */
function pickleEnd(data: Uint8Array, pos: number): number {
  let end = pos;
  for (const op of genops(data, pos, { lenient: true })) end = op.end;
  return end;
}
