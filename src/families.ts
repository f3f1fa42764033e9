/**
 * The built-in families, registered once, and the one place that compiles a list of families into
 * what the decoder, the encoder and the scanner read: handlers by name, reducers in order, the policy.
 * Adding a family is a new folder exporting a `Family` and one line in BUILTIN_FAMILIES.
 */
import { FamilySet, type Family } from './family.js';
import { BUILTINS_FAMILY } from './python/builtins.js';
import { STDLIB_FAMILY } from './python/stdlib.js';
import { NUMPY_FAMILY } from './numpy/index.js';
import { JOBLIB_FAMILY } from './joblib/index.js';
import { PANDAS_FAMILY } from './pandas/index.js';
import { TORCH_FAMILY } from './torch/family.js';

/** The families every call uses, in this order; `options.families` come after them. */
const BUILTIN_FAMILIES: readonly Family[] = [
  BUILTINS_FAMILY,
  STDLIB_FAMILY,
  NUMPY_FAMILY,
  JOBLIB_FAMILY,
  PANDAS_FAMILY,
  TORCH_FAMILY,
];

let builtin: FamilySet | undefined;
/** The last few extended sets, so a caller passing the same families on every call compiles them once. */
const recent: FamilySet[] = [];

/**
 * The built-in families plus `extra` (in order), compiled once per distinct list.
 * @example
 * familySet().policy.classify('os', 'system').severity; // 'dangerous'
 */
export function familySet(extra?: readonly Family[]): FamilySet {
  builtin ??= new FamilySet(BUILTIN_FAMILIES);
  if (extra === undefined || extra.length === 0) return builtin;
  const n = BUILTIN_FAMILIES.length;
  for (const s of recent) {
    if (s.families.length === n + extra.length && extra.every((f, i) => s.families[n + i] === f)) return s;
  }
  const s = new FamilySet([...BUILTIN_FAMILIES, ...extra]);
  recent.unshift(s);
  if (recent.length > 8) recent.pop();
  return s;
}
