/**
 * Writing pandas values back: every DataFrame, Series, manager, block, index and extension array
 * that the decoder rebuilt keeps the recipe pandas pickled it with, and this family replays it, so
 * `dumps(loads(df_pickle))` is a pickle pandas loads into an equal frame. Frames built in JS (no
 * recipe) are not writable: pandas' internals are too version-specific to synthesise safely.
 */
import type { Reduction } from '../pickle/reducers.js';
import { recipeOf } from './recipe.js';

/** How the pandas family writes its values: back from the recipe each was read with. */
export function reducePandas(value: unknown): Reduction | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const r = recipeOf(value);
  if (!r) return undefined;
  const out: { -readonly [K in keyof Reduction]: Reduction[K] } = {
    callable: r.callable,
    kind: r.kind,
    args: r.args,
  };
  if (r.state !== undefined) out.state = r.state;
  return out;
}
