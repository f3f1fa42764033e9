/**
 * The recipe each pandas value was read with, kept beside the value (a non-enumerable symbol) by the
 * decoding handlers (./index.ts) and replayed by the writer (./encode.ts).
 */
import type { PyGlobal, Tuple } from '../python/values.js';

/**
 * How pandas built an object in the pickle (callable, arguments, BUILD state), kept so that `dumps`
 * can write the object back exactly as pandas would load it (./encode.ts replays it).
 */
export interface PandasRecipe {
  callable: PyGlobal;
  kind: 'reduce' | 'newobj';
  args: Tuple;
  state?: unknown;
}

/** The recipe of a pandas value, set by the handlers below (non-enumerable). */
const RECIPE: unique symbol = Symbol('picklejar.pandasRecipe');

export function setRecipe(target: object, recipe: PandasRecipe): void {
  Object.defineProperty(target, RECIPE, {
    value: recipe,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

export function recipeOf(target: object): PandasRecipe | undefined {
  return (target as { [RECIPE]?: PandasRecipe })[RECIPE];
}
