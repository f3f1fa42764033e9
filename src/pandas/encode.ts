/**
 * Writing pandas values back: every DataFrame, Series, manager, block, index and extension array
 * that the decoder rebuilt keeps the recipe pandas pickled it with, and this family replays it, so
 * `dumps(loads(df_pickle))` is a pickle pandas loads into an equal frame. Frames built in JS (no
 * recipe) are not writable: pandas' internals are too version-specific to synthesise safely.
 */
import type { ReducerFamily, Reduction } from '../pickle/reducers.js';
import { recipeOf } from './index.js';

function reducePandas(value: unknown): Reduction | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const r = recipeOf(value);
  if (!r) return undefined;
  const out: { -readonly [K in keyof Reduction]: Reduction[K] } = { callable: r.callable, kind: r.kind, args: r.args };
  if (r.state !== undefined) out.state = r.state;
  return out;
}

export const PANDAS_FAMILY: ReducerFamily = {
  name: 'pandas',
  reduce: reducePandas,
  // Classes pandas passes as plain arguments to its own rebuilders (`_new_Index(cls, d)`,
  // `__pyx_unpickle_NDArrayBacked(cls, …)`): type objects, nothing that runs on load.
  safeGlobals: [
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
  ],
};
