/** numpy values in the show tree: arrays (with numpy-like previews fitted to the width), scalars, dtypes. */
import { Complex, isPlainObject } from '../../python/values.js';
import { DType, MaskedArray, NDArray, NumpyScalar, isLoaded } from '../../numpy/index.js';
import {
  arrayClassName,
  compactNum,
  dtypeText,
  formatSize,
  scalarValueText,
  shapeText,
  shortRepr,
  visibleLength,
} from './format.js';
import { seg, type ArrayInfo, type ShowRenderer } from './model.js';

/** Edge items per axis in array previews (numpy's own summary uses 3); fewer when the width is short. */
const EDGE = 3;
/** Arrays at least this large show their size in the head. */
const SIZE_SHOWN = 10_000;

const NAT = -(2n ** 63n);
const UNIT_MS: Record<string, number> = { W: 7 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000 };
/** Sub-second units: digits after the decimal point. */
const SUBSECOND: Record<string, number> = { s: 0, ms: 3, us: 6, ns: 9, ps: 12, fs: 15, as: 18 };

/** numpy datetime64 / timedelta64 elements as numpy prints them (ISO dates, `NaT`, `5 ms`). */
function timeText(v: unknown, dt: DType): string | undefined {
  if (typeof v !== 'bigint' && typeof v !== 'number') return undefined;
  const n = BigInt(v);
  if (n === NAT) return 'NaT';
  const unit = dt.unit ?? 'generic';
  if (dt.kind === 'm') return `${n * BigInt(dt.count)} ${unit === 'generic' ? '' : unit}`.trim();
  const k = Number(n) * dt.count;
  if (unit === 'Y') return String(1970 + k);
  if (unit === 'M') {
    const y = 1970 + Math.floor(k / 12);
    return `${y}-${String((((k % 12) + 12) % 12) + 1).padStart(2, '0')}`;
  }
  const sub = SUBSECOND[unit];
  if (sub !== undefined) {
    // Exact: whole seconds plus the fraction in the unit's own digits.
    const total = n * BigInt(dt.count);
    const per = 10n ** BigInt(sub);
    let sec = total / per;
    let frac = total % per;
    if (frac < 0n) {
      frac += per;
      sec -= 1n;
    }
    const d = new Date(Number(sec) * 1000);
    if (Number.isNaN(d.getTime())) return undefined;
    const base = d.toISOString().slice(0, 19);
    return sub === 0 ? base : `${base}.${frac.toString().padStart(sub, '0')}`;
  }
  const per = UNIT_MS[unit];
  if (per === undefined) return undefined;
  const ms = k * per;
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) return undefined;
  const iso = d.toISOString();
  if (unit === 'D' || unit === 'W') return iso.slice(0, 10);
  if (unit === 'h') return iso.slice(0, 13);
  return iso.slice(0, 16);
}

function elementText(a: NDArray, idx: number[], lossless: boolean, fields = 3): string {
  let v: unknown;
  try {
    if (a instanceof MaskedArray && a.mask && a.mask.dtype.names === null && a.mask.size === a.size) {
      if (a.mask.get(...idx) === true) return '--';
    }
    v = a.get(...idx);
  } catch {
    return '?';
  }
  const kind = a.dtype.kind;
  if (kind === 'M' || kind === 'm') {
    const t = timeText(v, a.dtype);
    if (t !== undefined) return t;
  }
  if (typeof v === 'number') return compactNum(v, kind === 'f' || kind === 'c');
  if (v instanceof Complex)
    return `${compactNum(v.re, false)}${v.im < 0 ? '-' : '+'}${compactNum(Math.abs(v.im), false)}j`;
  if (isPlainObject(v) && a.dtype.names !== null) {
    const keys = Object.keys(v);
    const parts = keys.slice(0, fields).map((k) => `${k}=${shortRepr(v[k], lossless, 1, true)}`);
    if (keys.length > fields) parts.push('…');
    return `(${parts.join(', ')})`;
  }
  return shortRepr(v, lossless, 1, true);
}

/** What a preview needs of an array-like value (numpy arrays, torch tensors). */
export interface PreviewSource {
  readonly shape: readonly number[];
  readonly size: number;
  /** The text of the element at `idx` (records show their first `fields` fields). */
  text(idx: number[], fields: number): string;
}

/**
 * numpy-like preview: `[[1.5, 2.0, …, 9.0], …]`, the first and last `edge` items per axis (edge 0:
 * the first item only); records show their first `fields` fields.
 */
function preview(a: PreviewSource, edge: number, fields: number): string {
  const shape = a.shape;
  const elementText_ = (idx: number[]): string => a.text(idx, fields);
  if (shape.length === 0) return elementText_([]);
  if (a.size === 0) return '[]';
  if (shape.length > 3) {
    // High-dimensional: the first few elements in C order.
    const out: string[] = [];
    const idx = shape.map(() => 0);
    for (let n = 0; n < Math.min(a.size, Math.max(1, 2 * edge)); n++) {
      out.push(elementText_(idx));
      for (let k = shape.length - 1; k >= 0; k--) {
        if (++(idx[k] as number) < (shape[k] as number)) break;
        idx[k] = 0;
      }
    }
    return `flat [${out.join(', ')}${a.size > out.length ? ', …' : ''}]`;
  }
  const rec = (dim: number, prefix: number[]): string => {
    const len = shape[dim] as number;
    const picks: (number | null)[] = [];
    if (edge === 0) picks.push(0, ...(len > 1 ? [null] : []));
    else if (len <= 2 * edge + 1) for (let i = 0; i < len; i++) picks.push(i);
    else {
      for (let i = 0; i < edge; i++) picks.push(i);
      picks.push(null);
      for (let i = len - edge; i < len; i++) picks.push(i);
    }
    const parts = picks.map((i) =>
      i === null
        ? '…'
        : dim === shape.length - 1
          ? elementText_([...prefix, i])
          : rec(dim + 1, [...prefix, i]),
    );
    return `[${parts.join(', ')}]`;
  };
  return rec(0, []);
}

/**
 * The preview of an array-like value that fits `budget` characters: three edge items per axis,
 * fewer if that is too long, and cut with `…` as a last resort (numpy arrays and torch tensors share it).
 * @example
 * fitPreview({ shape: [3], size: 3, text: ([i]) => String(i) }, 40); // '[0, 1, 2]'
 */
export function fitPreview(a: PreviewSource, budget = Infinity): string {
  let text = '';
  // From the fullest preview to the shortest: fewer edge items, then fewer record fields, then the first item.
  const tries: [number, number][] = [
    [EDGE, 3],
    [2, 3],
    [1, 3],
    [1, 2],
    [1, 1],
    [0, 1],
  ];
  for (const [edge, fields] of tries) {
    try {
      text = preview(a, edge, fields);
    } catch (e) {
      return `<cannot preview: ${(e as Error).message}>`;
    }
    if (visibleLength(text) <= budget) return text;
  }
  const chars = [...text];
  return chars.slice(0, Math.max(4, Math.floor(budget) - 1)).join('') + '…';
}

/**
 * The preview of `a` that fits `budget` characters: three edge items per axis, fewer if that is
 * too long, and cut with `…` as a last resort.
 * @example
 * arrayPreview(arr, true, 40); // '[0.0, 1.0, 2.0, …, 97.0, 98.0, 99.0]'
 */
function arrayPreview(a: NDArray, lossless: boolean, budget = Infinity): string {
  return fitPreview(
    { shape: a.shape, size: a.size, text: (idx, fields) => elementText(a, idx, lossless, fields) },
    budget,
  );
}

/**
 * Lazy arrays (`load(path, { lazy: true })`) still in their file and larger than this are not read
 * for a preview: a preview shows a few elements, but reading a lazy array reads all of it, so
 * showing a multi-GB file would read every array it prints. The tree says `(not loaded)` instead.
 */
export const LAZY_PREVIEW_BYTES = 1 << 20;

/** The summary of a lazy array left unread. */
export const NOT_LOADED = '(not loaded)';

/** What the tree says about an array. */
function arrayInfo(a: NDArray, summary: string): ArrayInfo {
  return {
    className: arrayClassName(a),
    dtype: dtypeText(a.dtype),
    shape: [...a.shape],
    nbytes: a.dtype.kind === 'O' || a.objects ? undefined : a.nbytes,
    summary,
    masked: a instanceof MaskedArray,
  };
}

export const ndarrayRenderer: ShowRenderer<NDArray> = {
  expand(a, ctx) {
    const type = a.subclass;
    // Object arrays expand into their elements; others are one line.
    if (a.objects && a.dtype.names === null && a.size > 0) {
      const flat = a.shape.length === 1;
      const children = [];
      const n = Math.min(a.size, ctx.items);
      for (let i = 0; i < n; i++)
        children.push({ label: flat ? `[${i}]` : `flat[${i}]`, value: a.objects[i] });
      const head = `${arrayClassName(a)} object ${shapeText(a.shape)}`;
      return {
        type,
        summary: '',
        head: [seg(head, 'type')],
        children,
        ...(a.size > n ? { more: `… ${a.size - n} more items` } : {}),
        array: arrayInfo(a, ''),
        expandable: true,
      };
    }
    let head = `${arrayClassName(a)} ${dtypeText(a.dtype)} ${shapeText(a.shape)}`;
    if (a instanceof MaskedArray) head += ' masked';
    if (a.dtype.kind !== 'O' && !a.objects && a.nbytes >= SIZE_SHOWN) head += ` ${formatSize(a.nbytes)}`;
    const summary =
      isLoaded(a) || a.nbytes <= LAZY_PREVIEW_BYTES
        ? arrayPreview(a, ctx.lossless, ctx.budget - visibleLength(head) - 1)
        : NOT_LOADED;
    return {
      type,
      summary,
      head: [seg(head, 'type'), seg(' '), seg(summary)],
      array: arrayInfo(a, summary),
      expandable: false,
    };
  },
  tally: (a) => ({ kind: 'array', ...(a.objects ? {} : { bytes: a.nbytes }) }),
  members: (a) => a.objects ?? [],
};

export const scalarRenderer: ShowRenderer<NumpyScalar> = {
  atom: () => true,
  expand(s, ctx) {
    const type = `numpy.${s.dtype.name}`;
    const summary = scalarValueText(s, ctx.lossless);
    return { type, summary, head: [seg(type, 'type'), seg(' '), seg(summary, 'num')], expandable: false };
  },
};

export const dtypeRenderer: ShowRenderer<DType> = {
  atom: () => true,
  expand(dt) {
    const summary = dt.toString().replace(/^dtype\((.*)\)$/, '$1');
    return {
      type: 'numpy.dtype',
      summary,
      head: [seg('numpy.dtype', 'type'), seg(' '), seg(summary)],
      expandable: false,
    };
  },
};
