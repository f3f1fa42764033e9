// Owned by the numpy family: describes src/numpy values (see DESCRIPTION_FORMAT.md). Mirrors
// `describe_numpy` in scripts/fixtures_numpy.py, whose docstring specifies the refined format:
//   ndarray  {t, dtype: D, shape, fortran, data: hex (C order) | v: [Desc] (object dtypes), cls?, mask?, fill_value?}
//   npscalar {t, dtype: D, data: hex}      dtype {t, v: D}
//   D = dtype.str for plain dtypes, else {str, itemsize, alignment, aligned, fields, subarray, type?, metadata?}
import type { Desc, DescribeChild } from './describe.js';
import { describe } from './describe.js';
import { DType, MaskedArray, NDArray, NumpyScalar } from '../../src/numpy/index.js';
import { isPlainObject } from '../../src/python/values.js';

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** 1 for each byte of an element that some field covers (structured dtypes may have padding). */
function covered(dt: DType): Uint8Array {
  if (dt.subarray) {
    const base = covered(dt.subarray.base);
    const n = dt.subarray.shape.reduce((a, b) => a * b, 1);
    const out = new Uint8Array(base.length * n);
    for (let i = 0; i < n; i++) out.set(base, i * base.length);
    return out;
  }
  if (dt.names === null) return new Uint8Array(dt.itemsize).fill(1);
  const mask = new Uint8Array(dt.itemsize);
  for (const f of dt.fieldList()) covered(f.dtype).forEach((c, i) => (mask[f.offset + i]! |= c));
  return mask;
}

/** Element bytes as hex, padding bytes zeroed (their content is arbitrary in numpy). */
function dataHex(dt: DType, raw: Uint8Array): string {
  if (dt.names === null && dt.subarray === null) return hex(raw);
  const mask = covered(dt);
  if (mask.every((c) => c === 1)) return hex(raw);
  const out = raw.slice();
  for (let i = 0; i < out.length; i++) if (!mask[i % dt.itemsize]) out[i] = 0;
  return hex(out);
}

function nonEmptyMetadata(md: unknown): boolean {
  if (md === null || md === undefined) return false;
  if (md instanceof Map) return md.size > 0;
  if (isPlainObject(md)) return Object.keys(md).length > 0;
  return true;
}

export function dtypeDesc(dt: DType): unknown {
  const plain =
    dt.names === null && dt.subarray === null && !nonEmptyMetadata(dt.metadata) && dt.scalarType === null;
  if (plain) return dt.str;
  const d: Record<string, unknown> = {
    str: dt.str,
    itemsize: dt.itemsize,
    alignment: dt.alignment,
    aligned: dt.isAlignedStruct,
    fields:
      dt.names === null
        ? null
        : dt.fieldList().map((f) => [f.name, f.title ?? null, f.offset, dtypeDesc(f.dtype)]),
    subarray: dt.subarray === null ? null : [dtypeDesc(dt.subarray.base), [...dt.subarray.shape]],
  };
  if (dt.kind === 'V' && dt.scalarType !== null) d['type'] = dt.scalarType;
  if (nonEmptyMetadata(dt.metadata)) d['metadata'] = describe(dt.metadata);
  return d;
}

/** numpy's pickled is_fortran: F-contiguous and not C-contiguous. */
function fortranOnly(a: NDArray): boolean {
  if (a.order !== 'F' || a.size === 0) return false;
  return a.shape.filter((d) => d > 1).length > 1;
}

export function describeNumpy(value: unknown, child: DescribeChild): Desc | undefined {
  if (value instanceof NDArray) {
    const d: Record<string, unknown> = {
      t: 'ndarray',
      dtype: dtypeDesc(value.dtype),
      shape: [...value.shape],
      fortran: fortranOnly(value),
    };
    if (value.subclass !== 'numpy.ndarray') d['cls'] = value.subclass;
    if (value.objects) {
      d['v'] =
        value.dtype.names === null
          ? value.objects.map((x) => child(x))
          : value.objects.map((rec) => (Array.isArray(rec) ? rec.map((x) => child(x)) : child(rec)));
    } else {
      d['data'] = dataHex(value.dtype, value.bytes());
    }
    if (value instanceof MaskedArray) {
      d['mask'] = value.mask ? hex(value.mask.bytes()) : null;
      d['fill_value'] = child(value.fillValue);
    }
    return d as Desc;
  }
  if (value instanceof NumpyScalar) {
    return { t: 'npscalar', dtype: dtypeDesc(value.dtype), data: dataHex(value.dtype, value.raw) };
  }
  if (value instanceof DType) return { t: 'dtype', v: dtypeDesc(value) };
  return undefined;
}
