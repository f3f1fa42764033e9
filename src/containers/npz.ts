/**
 * `.npz` writing (np.savez / np.savez_compressed): one `<name>.npy` entry per array, stored or
 * deflated. Reading is in torch-archive.ts (`loads`/`load` return a Map name → NDArray).
 */
import { PicklingError } from '../errors.js';
import { encode } from '../pickle/encoder.js';
import { NDArray } from '../numpy/ndarray.js';
import type { DType } from '../numpy/dtype.js';
import { ZipWriter, concatChunks } from './zip-write.js';

/** numpy's header descr text for `dt` (`'<f8'`, or a list of `('name', descr[, shape])` tuples). */
function descrText(dt: DType): string {
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (dt.names === null && dt.subarray === null) return q(dt.str);
  const entry = (e: readonly unknown[]): string => {
    const [name, d, shape] = e as [unknown, unknown, unknown];
    const n = Array.isArray(name) ? `(${name.map((x) => q(String(x))).join(', ')})` : q(String(name));
    const dd = Array.isArray(d) ? list(d as unknown[][]) : q(String(d));
    const sh = Array.isArray(shape) ? `, (${shape.join(', ')}${shape.length === 1 ? ',' : ''})` : '';
    return `(${n}, ${dd}${sh})`;
  };
  const list = (entries: unknown[][]): string => `[${entries.map(entry).join(', ')}]`;
  return list(dt.descr as unknown as unknown[][]);
}

/**
 * The header and the data of a `.npy` file holding `a` (format 1.0, or 2.0 for headers over 64 KiB;
 * object arrays as a protocol-3 pickle, as numpy writes them): two parts, so a writer need not join
 * them (the data is `a.raw` itself for numeric arrays).
 * @example
 * const [header, body] = npyParts(NDArray.fromTypedArray(new Float64Array([1, 2])));
 */
export function npyParts(a: NDArray): [Uint8Array, Uint8Array] {
  const fortran = a.order === 'F' && a.ndim > 1;
  const shape = `(${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`;
  const dict = `{'descr': ${descrText(a.dtype)}, 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  let version = 1;
  let pre = 10;
  let total = pre + dict.length + 1;
  if (total + 64 > 0xffff + 10) {
    version = 2;
    pre = 12;
    total = pre + dict.length + 1;
  }
  const pad = (64 - (total % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const body = a.objects !== null ? encode(a, { protocol: 3 }) : a.raw;
  const out = new Uint8Array(pre + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, header.length, true);
  else v.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i) & 0xff;
  return [out, body];
}

/**
 * The bytes of a `.npy` file holding `a` (see `npyParts`).
 * @example
 * npyBytes(NDArray.fromTypedArray(new Float64Array([1, 2]))) // np.load reads array([1., 2.])
 */
export function npyBytes(a: NDArray): Uint8Array {
  return concatChunks(npyParts(a));
}

/** Options of `dumpsNpz`. */
export interface NpzOptions {
  /** Deflate the entries (np.savez_compressed); default false (np.savez). */
  readonly compress?: boolean;
}

/**
 * An `.npz` archive of named arrays that `np.load` reads (object arrays need allow_pickle=True there).
 * @example
 * dumpsNpz({ x: NDArray.fromTypedArray(new Float32Array([1, 2])) }, { compress: true })
 */
export function dumpsNpz(
  arrays: ReadonlyMap<string, NDArray> | Readonly<Record<string, NDArray>>,
  options: NpzOptions = {},
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new ZipWriter((c) => chunks.push(c), 'auto');
  const items = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  for (const [name, a] of items) {
    if (!(a instanceof NDArray))
      throw new PicklingError(
        `npz member ${JSON.stringify(name)} is not an NDArray`,
        `root.${name}`,
        'invalid-value',
      );
    zip.add(`${name}.npy`, npyParts(a), { compress: options.compress === true, align: 1 });
  }
  zip.finish();
  return concatChunks(chunks);
}
