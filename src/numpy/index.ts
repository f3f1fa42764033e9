// STUB — owned by the numpy family, which replaces this file.
import type { GlobalRegistry } from '../unpickle/registry.js';
export function registerNumpy(registry: GlobalRegistry): GlobalRegistry {
  return registry;
}
