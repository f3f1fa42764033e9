/** The built-in families wired into one registry: builtins, stdlib, numpy, joblib, pandas. */
import { GlobalRegistry } from './unpickle/registry.js';
import { registerBuiltins } from './python/builtins.js';
import { registerStdlib } from './python/stdlib.js';
import { registerNumpy } from './numpy/index.js';
import { registerJoblib } from './joblib/index.js';
import { registerPandas } from './pandas/index.js';
import { TORCH_FAMILY } from './torch/family.js'; // SHIM, see below

/** SHIM helper: `module.name` → [module, name]. */
const splitName = (k: string): [string, string] => [k.slice(0, k.lastIndexOf('.')), k.slice(k.lastIndexOf('.') + 1)];

let cached: GlobalRegistry | undefined;

/**
 * The registry `loads` uses when no `registry` option is given. Extend a copy with `.merge()`.
 * @example
 * const mine = new GlobalRegistry().register('mypkg.Point', { call: (args) => ({ x: args[0], y: args[1] }) });
 * loads(bytes, { registry: defaultRegistry().merge(mine) });
 */
export function defaultRegistry(): GlobalRegistry {
  cached ??= registerPandas(registerJoblib(registerNumpy(registerStdlib(registerBuiltins(new GlobalRegistry())))));
  // SHIM (torch helper, until the lead wires families into loads): register TORCH_FAMILY's handlers.
  for (const [k, h] of Object.entries(TORCH_FAMILY.globals ?? {})) if (!cached.get(...splitName(k))) cached.register(k, h);
  return cached;
}
