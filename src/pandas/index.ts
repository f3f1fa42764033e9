/**
 * The pandas family: DataFrame and Series rebuilt as column tables a JS user can read by label,
 * without pandas. Covers the block-manager layouts pandas 1.x and 2.x pickle (`BlockManager(blocks,
 * axes)` with `_unpickle_block`, and the older "0.14.1" state dict), the index kinds (Index,
 * RangeIndex, Int64/UInt64/Float64Index, DatetimeIndex, MultiIndex, CategoricalIndex) and the
 * NDArray-backed extension arrays (DatetimeArray, TimedeltaArray, Categorical). Anything else stays an
 * inert PyObject inside the table, so nothing is lost.
 */
import { NDArray } from '../numpy/index.js';
import { PyGlobal, PyObject, PySlice, Tuple, UNHASHABLE, setOwn } from '../python/values.js';
import { defineFamily, type PolicyRule } from '../family.js';
import { reducePandas } from './encode.js';
import { recipeOf, setRecipe } from './recipe.js';
import { SET_STATE, handlerTable, type DecodeContext, type GlobalHandler } from '../unpickle/registry.js';

/**
 * A layout this family does not know (an older or newer pandas): the object as an inert PyObject
 * with its class, arguments and state, instead of failing the whole file. The writer then emits it
 * generically, so nothing is lost.
 */
function inertInstead(target: object, state: unknown, ctx: DecodeContext, what: string): PyObject {
  const r = recipeOf(target);
  if (!r) throw ctx.error(what);
  const o = new PyObject(r.callable, r.kind, r.args);
  if (state !== undefined) o.__state__ = state;
  return o;
}

/** Record the BUILD state on an object's recipe (BUILD may come more than once: keep the last). */
function recordState(target: object, state: unknown): void {
  const r = recipeOf(target);
  if (r) r.state = state;
}

/** Read `key` from a dict in either representation (plain object in default mode, Map in lossless). */
function dictGet(d: unknown, key: string): unknown {
  if (d instanceof Map) return d.get(key);
  if (d !== null && typeof d === 'object' && Object.prototype.hasOwnProperty.call(d, key)) {
    return (d as Record<string, unknown>)[key];
  }
  return undefined;
}

function isDict(d: unknown): boolean {
  return (
    d instanceof Map || (d !== null && typeof d === 'object' && Object.getPrototypeOf(d) === Object.prototype)
  );
}

function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN;
}

const NAT = -(2n ** 63n);
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  D: 86_400_000_000_000n,
};

/**
 * An NDArray-backed pandas extension array (`DatetimeArray`, `TimedeltaArray`, `Categorical`, …):
 * its class, numpy-level dtype or pandas dtype, and the backing array.
 */
export class PandasExtensionArray {
  /** `module.name` of the pandas class. */
  readonly cls: string;
  dtype: unknown = null;
  /** The backing numpy array (datetime64 counts, categorical codes, …). */
  values: unknown = null;
  /** Other attributes pandas pickled (`_freq`, …). */
  attrs: Record<string, unknown> = {};
  constructor(cls: string) {
    this.cls = cls;
  }

  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    recordState(this, state);
    if (state instanceof Tuple && state.length >= 2) {
      this.dtype = state[0];
      this.values = state[1];
      if (state.length > 2 && isDict(state[2])) {
        for (const [k, v] of state[2] instanceof Map ? state[2] : Object.entries(state[2] as object)) {
          if (typeof k === 'string') setOwn(this.attrs, k, v);
        }
      }
      return undefined;
    }
    if (isDict(state)) {
      // Categorical (and older arrays) pickle an attribute dict: `_codes`, `_dtype`/`_categories`, …
      for (const [k, v] of state instanceof Map ? state : Object.entries(state as object)) {
        if (typeof k === 'string') setOwn(this.attrs, k, v);
      }
      this.values = dictGet(state, '_codes') ?? dictGet(state, '_ndarray') ?? dictGet(state, '_data') ?? null;
      this.dtype = dictGet(state, '_dtype') ?? null;
      return undefined;
    }
    return inertInstead(this, state, ctx, `unexpected ${this.cls} state`);
  }

  /** The values as plain JS: Dates for datetimes (null for NaT), category values for categoricals. */
  toArray(): unknown[] {
    const values = this.values;
    if (this.cls.endsWith('Categorical')) {
      const codes = values instanceof NDArray ? values.toArray() : [];
      const cats = categoriesOf(this.dtype, this.attrs);
      return codes.map((c) => {
        const i = toNum(c);
        return i < 0 ? null : cats[i];
      });
    }
    if (values instanceof NDArray) {
      const kind = values.dtype.kind;
      if (kind === 'M') {
        const unit = UNIT_NS[values.dtype.unit ?? 'ns'] ?? 1n;
        return values.toArray().map((v) => {
          if (typeof v !== 'bigint' || v === NAT) return null;
          return new Date(Number((v * unit * BigInt(values.dtype.count ?? 1)) / 1_000_000n));
        });
      }
      return values.toArray();
    }
    return Array.isArray(values) ? values : [];
  }
}

function categoriesOf(dtype: unknown, attrs: Record<string, unknown>): unknown[] {
  const cats =
    dtype instanceof PyObject ? (dtype['categories'] ?? dtype['_categories']) : attrs['_categories'];
  return indexValues(cats);
}

/** A pandas Index of any kind, with its labels. */
export class PandasIndex {
  /** `module.name` of the index class (`pandas.core.indexes.range.RangeIndex`, …). */
  readonly cls: string;
  /** The index name (`None` → null); a MultiIndex has `names`. */
  name: unknown = null;
  names: unknown[] | undefined;
  private readonly source: unknown;
  private labels: unknown[] | undefined;
  constructor(cls: string, d: unknown) {
    this.cls = cls;
    this.source = d;
    this.name = dictGet(d, 'name') ?? null;
    const names = dictGet(d, 'names');
    if (Array.isArray(names)) this.names = [...names];
  }

  /** Number of labels. */
  get length(): number {
    return this.values().length;
  }

  /** The labels as a JS array (MultiIndex labels are arrays of level values). */
  values(): unknown[] {
    if (this.labels) return this.labels;
    const d = this.source;
    let out: unknown[];
    if (this.cls.endsWith('RangeIndex')) {
      const start = toNum(dictGet(d, 'start') ?? 0);
      const stop = toNum(dictGet(d, 'stop') ?? 0);
      const step = toNum(dictGet(d, 'step') ?? 1);
      out = [];
      if (step !== 0 && Number.isFinite(start) && Number.isFinite(stop)) {
        const n = Math.max(0, Math.ceil((stop - start) / step));
        if (n > 2 ** 31) throw new RangeError('RangeIndex too long to expand');
        for (let i = 0; i < n; i++) out.push(start + i * step);
      }
    } else if (this.cls.endsWith('MultiIndex')) {
      const levels = (dictGet(d, 'levels') as unknown[] | undefined) ?? [];
      const codes =
        (dictGet(d, 'codes') as unknown[] | undefined) ??
        (dictGet(d, 'labels') as unknown[] | undefined) ??
        [];
      const levelValues = levels.map((l) => indexValues(l));
      const codeArrays = codes.map((c) => (c instanceof NDArray ? c.toArray() : Array.isArray(c) ? c : []));
      const n = codeArrays[0]?.length ?? 0;
      out = [];
      for (let i = 0; i < n; i++) {
        out.push(
          codeArrays.map((ca, k) => {
            const code = toNum(ca[i]);
            return code < 0 ? null : levelValues[k]?.[code];
          }),
        );
      }
    } else {
      out = valuesOf(dictGet(d, 'data'));
    }
    this.labels = out;
    return out;
  }
}

/** Labels of an index-like value (PandasIndex, NDArray, list). */
function indexValues(v: unknown): unknown[] {
  if (v instanceof PandasIndex) return v.values();
  return valuesOf(v);
}

/** Plain JS values of an array-like (NDArray, extension array, list). */
function valuesOf(v: unknown): unknown[] {
  if (v instanceof NDArray) return v.toArray();
  if (v instanceof PandasExtensionArray) return v.toArray();
  if (Array.isArray(v)) return v;
  return [];
}

/** One block: 2-D values (one row per column in the block) and which columns they are. */
class PandasBlock {
  constructor(
    readonly values: unknown,
    readonly placement: number[],
    readonly ndim: number,
  ) {}

  /** The `i`-th column held by this block, as plain JS values. */
  column(i: number): unknown[] {
    const v = this.values;
    if (v instanceof NDArray) {
      if (v.ndim === 1) return v.toArray();
      if (v.ndim === 2) {
        const n = v.shape[1] as number;
        const out = new Array<unknown>(n);
        for (let j = 0; j < n; j++) out[j] = v.get(i, j);
        return out;
      }
    }
    // Extension arrays are 1-D: a block holds exactly one column.
    return valuesOf(v);
  }
}

function placementOf(p: unknown, ctx: DecodeContext | undefined): number[] {
  if (p instanceof PySlice) {
    const start = p.start === null ? 0 : toNum(p.start);
    const stop = toNum(p.stop);
    const step = p.step === null ? 1 : toNum(p.step);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(stop) ||
      !Number.isInteger(step) ||
      step <= 0 ||
      stop - start > 1e7
    ) {
      if (ctx) throw ctx.error('invalid block placement slice');
      return [];
    }
    const out: number[] = [];
    for (let i = start; i < stop; i += step) out.push(i);
    return out;
  }
  if (p instanceof NDArray) return p.toArray().map(toNum);
  if (Array.isArray(p)) return p.map(toNum);
  if (ctx) throw ctx.error('invalid block placement');
  return [];
}

/** A pandas BlockManager (DataFrame) or SingleBlockManager (Series): axes plus blocks. */
class PandasManager {
  axes: unknown[] = [];
  blocks: PandasBlock[] = [];
  constructor(readonly cls: string) {}

  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    recordState(this, state);
    // The "0.14.1" layout: (axes, values, items, {'0.14.1': {'axes': [...], 'blocks': [{'values', 'mgr_locs'}]}})
    const modern =
      state instanceof Tuple && state.length >= 4 ? dictGet(state[3], '0.14.1') : dictGet(state, '0.14.1');
    if (modern !== undefined) {
      const axes = dictGet(modern, 'axes');
      const blocks = dictGet(modern, 'blocks');
      this.axes = Array.isArray(axes) ? [...axes] : [];
      this.blocks = (Array.isArray(blocks) ? blocks : []).map((b) => {
        const values = dictGet(b, 'values');
        const ndim = values instanceof NDArray ? values.ndim : 1;
        return new PandasBlock(values, placementOf(dictGet(b, 'mgr_locs'), ctx), ndim);
      });
      return undefined;
    }
    return inertInstead(this, state, ctx, `unexpected ${this.cls} state`);
  }
}

/** Common part of DataFrame and Series: the pickled attribute dict. */
abstract class PandasFrameBase {
  /** DataFrames and Series cannot be dict keys or set members in Python. */
  declare readonly [UNHASHABLE]: true;
  /** `module.name` of the pandas class. */
  readonly cls: string;
  manager: PandasManager | undefined;
  /** Other pickled attributes (`attrs`, `_flags`, `_metadata`, …). */
  readonly attributes: Record<string, unknown> = {};
  /** Decoded with `lossless: true`: int64 cells stay bigint; otherwise safe ones become numbers. */
  protected readonly lossless: boolean;
  constructor(cls: string, lossless = false) {
    this.cls = cls;
    this.lossless = lossless;
  }

  /** Default mode: int64 cells within the safe range as numbers, like `loads` does for ints. */
  protected friendly(values: unknown[]): unknown[] {
    if (this.lossless) return values;
    return values.map((v) =>
      typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v,
    );
  }

  [SET_STATE](state: unknown, ctx: DecodeContext): unknown {
    if (!isDict(state)) return inertInstead(this, state, ctx, `unexpected ${this.cls} state`);
    recordState(this, state);
    for (const [k, v] of state instanceof Map ? state : Object.entries(state as object)) {
      if (typeof k !== 'string') continue;
      // pandas >= 1.1 names the manager `_mgr`; older releases `_data`.
      if ((k === '_mgr' || k === '_data') && v instanceof PandasManager) this.manager = v;
      else setOwn(this.attributes, k, v);
    }
    // No manager this family understood (e.g. one kept inert): the frame stays inert too.
    if (!this.manager) return inertInstead(this, state, ctx, `${this.cls} state has no block manager`);
    return undefined;
  }
}

/**
 * A pandas DataFrame: column labels, row labels, and the columns as plain JS arrays.
 * @example
 * const df = loads(bytes) as DataFrame;
 * df.columns;            // ['city', 'temp']
 * df.column('temp');     // [12.5, -3]
 * df.toRecords()[0];     // { city: 'Lyon', temp: 12.5 }
 */
export class DataFrame extends PandasFrameBase {
  private cols: Map<number, unknown[]> | undefined;

  /** Column labels (axes[0]). */
  get columns(): unknown[] {
    return this.friendly(indexValues(this.manager?.axes[0]));
  }

  /** Row labels (axes[1]). */
  get index(): unknown[] {
    return this.friendly(indexValues(this.manager?.axes[1]));
  }

  /** [rows, columns]. */
  get shape(): [number, number] {
    return [this.index.length, this.columns.length];
  }

  private columnsByPosition(): Map<number, unknown[]> {
    if (this.cols) return this.cols;
    const cols = new Map<number, unknown[]>();
    for (const block of this.manager?.blocks ?? []) {
      block.placement.forEach((position, i) => cols.set(position, this.friendly(block.column(i))));
    }
    this.cols = cols;
    return cols;
  }

  /** The values of the column labelled `label` (first match), or undefined. */
  column(label: unknown): unknown[] | undefined {
    const position = this.columns.findIndex((c) => c === label);
    return position < 0 ? undefined : this.columnsByPosition().get(position);
  }

  /** Every column by its label (labels converted with String()). */
  toColumns(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    const cols = this.columnsByPosition();
    this.columns.forEach((label, position) => setOwn(out, String(label), cols.get(position) ?? []));
    return out;
  }

  /** One plain object per row, keyed by column label (String()). */
  toRecords(): Record<string, unknown>[] {
    const labels = this.columns.map(String);
    const cols = this.columnsByPosition();
    const n = this.index.length;
    const out: Record<string, unknown>[] = [];
    for (let r = 0; r < n; r++) {
      const row: Record<string, unknown> = {};
      labels.forEach((l, position) => setOwn(row, l, cols.get(position)?.[r]));
      out.push(row);
    }
    return out;
  }
}

/**
 * A pandas Series: its name, row labels and values.
 * @example
 * const s = loads(bytes) as Series;
 * s.name; s.index; s.values();
 */
export class Series extends PandasFrameBase {
  /** The series name. */
  get name(): unknown {
    return this.attributes['name'] ?? null;
  }

  /** Row labels. */
  get index(): unknown[] {
    return this.friendly(indexValues(this.manager?.axes[0]));
  }

  /** The values as plain JS. */
  values(): unknown[] {
    return this.friendly(this.manager?.blocks[0]?.column(0) ?? []);
  }

  /** The value at row label `label` (first match). */
  get(label: unknown): unknown {
    const i = this.index.findIndex((l) => l === label);
    return i < 0 ? undefined : this.values()[i];
  }
}

function qualified(g: unknown, fallback: string): string {
  return g instanceof PyGlobal ? g.qualifiedName : fallback;
}

const PANDAS_GLOBALS = handlerTable((register) => {
  const frame = (kind: 'frame' | 'series'): GlobalHandler => ({
    construct: (args, _kwargs, ctx) => {
      const out =
        kind === 'frame'
          ? new DataFrame('pandas.core.frame.DataFrame', ctx.lossless)
          : new Series('pandas.core.series.Series', ctx.lossless);
      const [m, n] = kind === 'frame' ? ['pandas.core.frame', 'DataFrame'] : ['pandas.core.series', 'Series'];
      setRecipe(out, { callable: new PyGlobal(m, n), kind: 'newobj', args });
      return out;
    },
    // DataFrame(...) called directly is not how pandas pickles: keep the call inert.
    call: (args) => {
      const [m, n] = kind === 'frame' ? ['pandas.core.frame', 'DataFrame'] : ['pandas.core.series', 'Series'];
      return new PyObject(new PyGlobal(m, n), 'reduce', args);
    },
  });
  register('pandas.core.frame.DataFrame', frame('frame'));
  register('pandas.core.series.Series', frame('series'));

  const manager = (module: string, cls: string): GlobalHandler => ({
    call: (args, ctx) => {
      // BlockManager(blocks, axes) — pandas >= 1.3 reduces managers this way.
      const m = new PandasManager(cls);
      setRecipe(m, { callable: new PyGlobal(module, cls), kind: 'reduce', args });
      const [blocks, axes] = args;
      // Arguments of a shape this family does not know: the call stays inert (see inertInstead).
      if (!Array.isArray(blocks) || !Array.isArray(axes) || !blocks.every((b) => b instanceof PandasBlock)) {
        return inertInstead(m, undefined, ctx, `${cls} expects (blocks, axes)`);
      }
      m.blocks = [...(blocks as PandasBlock[])];
      m.axes = [...axes];
      return m;
    },
    construct: (args) => {
      const m = new PandasManager(cls);
      setRecipe(m, { callable: new PyGlobal(module, cls), kind: 'newobj', args });
      return m;
    },
  });
  for (const base of ['pandas.core.internals.managers', 'pandas.core.internals']) {
    register(`${base}.BlockManager`, manager(base, 'BlockManager'));
    register(`${base}.SingleBlockManager`, manager(base, 'SingleBlockManager'));
  }

  register('pandas._libs.internals._unpickle_block', {
    call: (args, ctx) => {
      const [values, placement, ndim] = args;
      const block = new PandasBlock(values, placementOf(placement, ctx), toNum(ndim ?? 2));
      setRecipe(block, {
        callable: new PyGlobal('pandas._libs.internals', '_unpickle_block'),
        kind: 'reduce',
        args,
      });
      return block;
    },
  });

  const newIndex = (module: string, name: string): GlobalHandler => ({
    call: (args) => {
      const [cls, d] = args;
      if (!isDict(d)) return new PyObject(new PyGlobal(module, name), 'reduce', args);
      const index = new PandasIndex(qualified(cls, 'pandas.core.indexes.base.Index'), d);
      setRecipe(index, { callable: new PyGlobal(module, name), kind: 'reduce', args });
      return index;
    },
  });
  register('pandas.core.indexes.base._new_Index', newIndex('pandas.core.indexes.base', '_new_Index'));
  register(
    'pandas.core.indexes.datetimes._new_DatetimeIndex',
    newIndex('pandas.core.indexes.datetimes', '_new_DatetimeIndex'),
  );
  register(
    'pandas.core.indexes.period._new_PeriodIndex',
    newIndex('pandas.core.indexes.period', '_new_PeriodIndex'),
  );

  register('pandas._libs.arrays.__pyx_unpickle_NDArrayBacked', {
    call: (args) => {
      const array = new PandasExtensionArray(qualified(args[0], 'pandas.core.arrays.NDArrayBacked'));
      setRecipe(array, {
        callable: new PyGlobal('pandas._libs.arrays', '__pyx_unpickle_NDArrayBacked'),
        kind: 'reduce',
        args,
      });
      return array;
    },
  });
  for (const cls of [
    'pandas.core.arrays.categorical.Categorical',
    'pandas.core.arrays.datetimes.DatetimeArray',
    'pandas.core.arrays.timedeltas.TimedeltaArray',
  ]) {
    const dot = cls.lastIndexOf('.');
    const array: GlobalHandler = {
      construct: (args) => {
        const a = new PandasExtensionArray(cls);
        setRecipe(a, { callable: new PyGlobal(cls.slice(0, dot), cls.slice(dot + 1)), kind: 'newobj', args });
        return a;
      },
    };
    register(cls, array);
  }
});

/**
 * Classes pandas passes as plain arguments to its own rebuilders (`_new_Index(cls, d)`,
 * `__pyx_unpickle_NDArrayBacked(cls, …)`): type objects, nothing that runs on load.
 */
const PANDAS_ARGUMENT_CLASSES: readonly string[] = [
  'pandas.core.indexes.base.Index',
  'pandas.core.indexes.range.RangeIndex',
  'pandas.core.indexes.numeric.Int64Index',
  'pandas.core.indexes.numeric.UInt64Index',
  'pandas.core.indexes.numeric.Float64Index',
  'pandas.core.indexes.numeric.NumericIndex',
  'pandas.core.indexes.datetimes.DatetimeIndex',
  'pandas.core.indexes.timedeltas.TimedeltaIndex',
  'pandas.core.indexes.period.PeriodIndex',
  'pandas.core.indexes.multi.MultiIndex',
  'pandas.core.indexes.category.CategoricalIndex',
  'pandas.core.arrays.datetimes.DatetimeArray',
  'pandas.core.arrays.timedeltas.TimedeltaArray',
  'pandas.core.arrays.categorical.Categorical',
  'pandas.core.dtypes.dtypes.CategoricalDtype',
];

/**
 * The pandas family: DataFrame, Series, indexes and their blocks, read into `DataFrame`/`Series`
 * values and written back from the recipe they were read with. pandas internals are safe globals.
 */
export const PANDAS_FAMILY = defineFamily({
  name: 'pandas',
  globals: PANDAS_GLOBALS,
  reduce: (value) => reducePandas(value),
  rules: [
    ...PANDAS_ARGUMENT_CLASSES.map((name): PolicyRule => ({
      name,
      severity: 'safe',
      reason: 'pandas class',
    })),
    ...['pandas.core', 'pandas._libs', 'pandas.tseries', 'pandas.indexes', 'pandas.arrays'].map(
      (m): PolicyRule => ({ name: `${m}.*`, severity: 'safe', reason: 'pandas internals' }),
    ),
  ],
});

Object.defineProperty(PandasFrameBase.prototype, UNHASHABLE, { value: true });
