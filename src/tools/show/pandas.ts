/** pandas values in the show tree: DataFrames and Series as small tables, indexes and extension arrays. */
import { PyObject } from '../../python/values.js';
import { PyPytzTimezone } from '../../python/stdlib.js';
import { PyTimezone, PyZoneInfo } from '../../python/datetime.js';
import { DType, NDArray } from '../../numpy/index.js';
import { DataFrame, PandasExtensionArray, PandasIndex, Series } from '../../pandas/index.js';
import { compactNum, safe, shortClass, shortRepr, visibleLength } from './format.js';
import { seg, type Segment, type ShowRenderer } from './model.js';

/** Longest table cell (characters). */
const CELL = 24;
/** Most columns in a table (fewer when the width is short). */
const MAX_COLUMNS = 8;
/** Columns listed on the `columns:` line. */
const COLUMNS_LISTED = 20;

function tzName(tz: unknown): string {
  if (tz instanceof PyZoneInfo) return tz.key;
  if (tz instanceof PyPytzTimezone) return tz.zone ?? 'pytz.FixedOffset';
  if (tz instanceof PyTimezone) return tz.tzname();
  if (typeof tz === 'string') return tz;
  return '?';
}

/** The nullable extension dtype pandas names after the numpy dtype of its data: Int64, UInt8, Float32. */
function maskedName(data: unknown): string | undefined {
  if (!(data instanceof NDArray)) return undefined;
  const name = data.dtype.name;
  if (name.startsWith('uint')) return 'UInt' + name.slice(4);
  if (name.startsWith('int')) return 'Int' + name.slice(3);
  if (name.startsWith('float')) return 'Float' + name.slice(5);
  return undefined;
}

/**
 * The dtype pandas prints for a block's values (`df.dtypes`): numpy names for numpy blocks, pandas'
 * names for extension arrays (`datetime64[ns, Europe/Paris]`, `category`, `Int64`, `string`, …).
 */
function pandasDtypeName(values: unknown): string {
  if (values instanceof NDArray) return values.dtype.name;
  if (values instanceof PandasExtensionArray) {
    const cls = shortClass(values.cls);
    const dt = values.dtype;
    if (cls === 'Categorical') return 'category';
    if (cls === 'StringArray' || cls === 'ArrowStringArray') return 'string';
    if (dt instanceof DType) return dt.name;
    if (dt instanceof PyObject) {
      const dtCls = shortClass(dt.__qualname__);
      if (dtCls === 'DatetimeTZDtype')
        return `datetime64[${String(dt['unit'] ?? 'ns')}, ${tzName(dt['tz'])}]`;
      if (dtCls === 'PeriodDtype') return 'period';
      if (dtCls === 'CategoricalDtype') return 'category';
    }
    return cls;
  }
  if (values instanceof PyObject) {
    const cls = shortClass(values.__qualname__);
    if (cls === 'IntegerArray' || cls === 'FloatingArray') return maskedName(values['_data']) ?? cls;
    if (cls === 'BooleanArray') return 'boolean';
    if (cls === 'SparseArray') {
      const v = values['_sparse_values'];
      return v instanceof NDArray ? `Sparse[${v.dtype.name}]` : 'Sparse';
    }
    // IntervalArray pickles through a Cython helper whose first argument is the class.
    const first = values.__args__?.[0];
    if (cls.startsWith('__pyx_unpickle') && first !== undefined) {
      const name = shortClass(String(first));
      return name === 'IntervalArray' ? 'interval' : name;
    }
    return cls;
  }
  return 'object';
}

const NS_PER_DAY = 86_400_000_000_000n;

/** A timedelta in nanoseconds as pandas prints it: `0 days 00:00:01`, `-1 days +23:59:59.500000`. */
function timedeltaText(ns: bigint): string {
  let days = ns / NS_PER_DAY;
  let rest = ns % NS_PER_DAY;
  if (rest < 0n) {
    rest += NS_PER_DAY;
    days -= 1n;
  }
  const sec = rest / 1_000_000_000n;
  const frac = rest % 1_000_000_000n;
  const hh = String(sec / 3600n).padStart(2, '0');
  const mm = String((sec / 60n) % 60n).padStart(2, '0');
  const ss = String(sec % 60n).padStart(2, '0');
  let f = '';
  if (frac !== 0n)
    f = '.' + (frac % 1000n === 0n ? String(frac / 1000n).padStart(6, '0') : String(frac).padStart(9, '0'));
  return `${days} days ${days < 0n ? '+' : ''}${hh}:${mm}:${ss}${f}`;
}

function cellText(v: unknown, lossless: boolean, dtype = ''): string {
  let s: string;
  if (v === null || v === undefined)
    s = dtype.startsWith('datetime64') || dtype.startsWith('timedelta64') ? 'NaT' : 'None';
  // eslint-disable-next-line no-control-regex -- control characters would break the table layout
  else if (typeof v === 'string') s = v.replace(/[\x00-\x1f\x7f]/g, '·');
  else if (dtype.startsWith('timedelta64') && (typeof v === 'bigint' || typeof v === 'number'))
    s = timedeltaText(BigInt(v));
  else if (typeof v === 'number') s = compactNum(v, dtype.startsWith('float') || lossless);
  else if (v instanceof Date)
    s = Number.isNaN(v.getTime())
      ? 'NaT'
      : v
          .toISOString()
          .replace('T', ' ')
          .replace(/\.000Z$|Z$/, '');
  else s = shortRepr(v, lossless, 1, true);
  return [...s].length > CELL ? [...s].slice(0, CELL - 1).join('') + '…' : s;
}

function labelsPreview(labels: readonly unknown[], limit: number, lossless: boolean): string {
  const shown = labels.slice(0, limit).map((l) => shortRepr(l, lossless, 1, true));
  if (labels.length > limit) shown.push(`…${labels.length - limit} more`);
  return `[${shown.join(', ')}]`;
}

/**
 * Index labels are partly computed by picklejar (a RangeIndex's), so a JS number there is not
 * necessarily a Python float: labels print integral numbers as ints.
 */
function indexLine(idx: unknown, labels: readonly unknown[], lossless: boolean): string {
  const cls = idx instanceof PandasIndex ? shortClass(idx.cls) : 'Index';
  const name =
    idx instanceof PandasIndex && idx.name !== null ? ` name=${shortRepr(idx.name, lossless, 1)}` : '';
  return `${cls}${name} ${labelsPreview(labels, 6, false)}`;
}

function columnTypes(df: DataFrame | Series): Map<number, string> {
  const out = new Map<number, string>();
  for (const block of df.manager?.blocks ?? []) {
    const t = pandasDtypeName(block.values);
    block.placement.forEach((p) => out.set(p, t));
  }
  return out;
}

/** Right-aligned table rows, with as many columns as fit `budget` (the first column always). */
function table(rows: string[][], budget: number, moreColumns: boolean): string[] {
  const ncols = (rows[0] as string[]).length;
  const widths = Array.from({ length: ncols }, (_, k) =>
    Math.max(...rows.map((row) => visibleLength(row[k] as string))),
  );
  let shown = ncols;
  const total = (n: number): number => widths.slice(0, n).reduce((a, b) => a + b, 0) + 2 * (n - 1);
  while (shown > 2 && total(shown) + (shown < ncols || moreColumns ? 3 : 0) > budget) shown--;
  const cut = shown < ncols || moreColumns;
  return rows.map((row) => {
    const text = row
      .slice(0, shown)
      .map((c, k) => ' '.repeat(Math.max(0, (widths[k] as number) - visibleLength(c))) + c)
      .join('  ');
    return cut ? text + '  …' : text;
  });
}

export const dataFrameRenderer: ShowRenderer<DataFrame> = {
  expand(df, ctx) {
    const rowsShown = Math.min(ctx.items, 10);
    const columns = safe(() => df.columns, [] as unknown[]);
    const index = safe(() => df.index, [] as unknown[]);
    const types = columnTypes(df);
    const cols = columns.map((label, i) => ({ label, dtype: types.get(i) ?? '?' }));
    const summary = `(${index.length} rows × ${columns.length} columns)`;
    const lines: Segment[][] = [];
    const colList: Segment[] = [seg('columns: ')];
    cols.slice(0, COLUMNS_LISTED).forEach((c, i) => {
      colList.push(seg(`${i > 0 ? ', ' : ''}${shortRepr(c.label, ctx.lossless, 1)} `), seg(c.dtype, 'type'));
    });
    if (cols.length > COLUMNS_LISTED) colList.push(seg(`, …${cols.length - COLUMNS_LISTED} more`, 'note'));
    lines.push(colList);
    lines.push([seg(`index: ${indexLine(df.manager?.axes[1], index, ctx.lossless)}`)]);
    const shownCols = cols.slice(0, MAX_COLUMNS);
    const nRows = Math.min(index.length, rowsShown);
    if (shownCols.length > 0 && nRows > 0) {
      const rows: string[][] = [['', ...shownCols.map((c) => cellText(c.label, ctx.lossless))]];
      const data = shownCols.map((c) => safe(() => df.column(c.label) ?? [], [] as unknown[]));
      for (let r = 0; r < nRows; r++) {
        rows.push([
          cellText(index[r], false),
          ...data.map((col, k) => cellText(col[r], false, shownCols[k]?.dtype)),
        ]);
      }
      for (const text of table(rows, ctx.lineBudget, cols.length > MAX_COLUMNS)) lines.push([seg(text)]);
      if (index.length > nRows) lines.push([seg(`… ${index.length - nRows} more rows`, 'note')]);
    }
    return {
      type: 'pandas DataFrame',
      summary,
      head: [seg('pandas DataFrame', 'type'), seg(' '), seg(summary, 'note')],
      lines,
      expandable: true,
    };
  },
  tally: () => ({ kind: 'frame' }),
};

export const seriesRenderer: ShowRenderer<Series> = {
  expand(s, ctx) {
    const rowsShown = Math.min(ctx.items, 10);
    const index = safe(() => s.index, [] as unknown[]);
    const values = safe(() => s.values(), [] as unknown[]);
    const dtype = columnTypes(s).get(0) ?? '?';
    const name = s.name === null ? '' : ` ${shortRepr(s.name, ctx.lossless, 1)}`;
    const summary = `(${values.length} values, ${dtype})`;
    const lines: Segment[][] = [[seg(`index: ${indexLine(s.manager?.axes[0], index, ctx.lossless)}`)]];
    const n = Math.min(values.length, rowsShown);
    const rows: string[][] = [];
    for (let r = 0; r < n; r++) rows.push([cellText(index[r], false), cellText(values[r], false, dtype)]);
    if (rows.length > 0) for (const text of table(rows, ctx.lineBudget, false)) lines.push([seg(text)]);
    if (values.length > n) lines.push([seg(`… ${values.length - n} more values`, 'note')]);
    return {
      type: 'pandas Series',
      summary: `${name.trim()}${name ? ' ' : ''}${summary}`,
      head: [seg('pandas Series', 'type'), seg(name), seg(' '), seg(summary, 'note')],
      lines,
      expandable: true,
    };
  },
  tally: () => ({ kind: 'frame' }),
};

export const indexRenderer: ShowRenderer<PandasIndex> = {
  expand(v, ctx) {
    const labels = safe(() => v.values(), [] as unknown[]);
    const type = `pandas ${shortClass(v.cls)}`;
    const note = `(${labels.length} labels)`;
    const preview = labelsPreview(labels, ctx.items, false);
    return {
      type,
      summary: `${note} ${preview}`,
      head: [seg(type, 'type'), seg(' '), seg(note, 'note'), seg(' '), seg(preview)],
      expandable: false,
    };
  },
};

export const extensionArrayRenderer: ShowRenderer<PandasExtensionArray> = {
  expand(v, ctx) {
    const values = safe(() => v.toArray(), [] as unknown[]);
    const dtype = pandasDtypeName(v);
    const note = `(${values.length} values, ${dtype})`;
    const preview = labelsPreview(values, ctx.items, ctx.lossless);
    return {
      type: v.cls,
      summary: `${note} ${preview}`,
      head: [seg(v.cls, 'type'), seg(' '), seg(note, 'note'), seg(' '), seg(preview)],
      expandable: false,
    };
  },
};
