// STUB — owned by the joblib family, which replaces this file.
import type { GlobalRegistry } from '../unpickle/registry.js';
export function registerJoblib(registry: GlobalRegistry): GlobalRegistry {
  return registry;
}
