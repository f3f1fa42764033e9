/**
 * A family is everything picklejar knows about one Python library's objects, in both directions,
 * as one object (msgpack-javascript's ExtensionCodec keeps a type's encoder and decoder together the
 * same way):
 *
 * - `globals`: how the decoder rebuilds each `module.name` the library pickles (REDUCE, NEWOBJ, BUILD);
 * - `reduce`: how the encoder turns the family's JS values back into Python objects;
 * - `rules`: what the one policy table says about the library's names: which are safe (written without
 *   `allowGlobals`, graded safe by `scan`) and which run code (refused by `loads`, flagged by `scan`).
 *
 * `loads`, `dumps` and `scan` all read the same families: the built-in ones (builtins, stdlib, numpy,
 * joblib, pandas, torch) and whatever a user passes in `options.families`. A new family is a new
 * folder exporting one `Family` and one line in `src/families.ts`.
 *
 * @example
 * const points = defineFamily({
 *   name: 'geometry',
 *   globals: { 'geometry.Point': { construct: (args) => new Point(Number(args[0]), Number(args[1])) } },
 *   reduce: (v) => (v instanceof Point ? reduceCall('geometry', 'Point', [v.x, v.y]) : undefined),
 *   rules: [{ name: 'geometry.Point', severity: 'safe', reason: 'a plain value class' }],
 * });
 * loads(bytes, { families: [points] });
 * dumps(new Point(1, 2), { families: [points] });
 */
import type { GlobalHandler } from './unpickle/registry.js';
import type { Reducer } from './pickle/reducers.js';
import { BASE_RULES, Policy } from './unpickle/policy.js';

/** How a name is graded. `unknown` is what every name no rule covers gets. */
export type Severity = 'safe' | 'unknown' | 'dangerous';

/**
 * One entry of the policy table.
 * - `name`: an exact `module.name` (`'os.system'`), a whole module and its submodules (`'os.*'`), or
 *   a RegExp tested against `module.name`.
 * - `severity`: `'dangerous'` names are refused by `loads` (unless `dangerousGlobals: 'inert'`) and
 *   flagged by `scan`; `'safe'` names may be written without `allowGlobals` and pass `scan`.
 * - `when: 'called'`: the rule applies only when the global is called (REDUCE, NEWOBJ, INST, OBJ):
 *   `numpy.memmap` is a harmless class reference but creates files when called.
 */
export interface PolicyRule {
  readonly name: string | RegExp;
  readonly severity: 'safe' | 'dangerous';
  readonly reason: string;
  readonly when?: 'called';
}

/** One library's knowledge, for reading, writing and scanning. */
export interface Family {
  /** Short name (`'numpy'`, `'torch'`): shown in scan reasons and error messages. */
  readonly name: string;
  /** Decoding: handler per `module.name` (after Python 2 renaming and `moduleAliases`). */
  readonly globals?: Readonly<Record<string, GlobalHandler>>;
  /** Encoding: returns the Reduction of a value this family owns, or undefined. */
  readonly reduce?: Reducer;
  /**
   * Policy rules. Every global in `globals` is graded safe without a rule (reason: the family's
   * name). For one name, a `'dangerous'` exact rule or pattern wins over a safe one; an exact safe
   * name inside a module that a `module.*` rule calls dangerous is safe (torch needs
   * `torch.serialization._get_layout` inside the refused `torch.serialization`): so a family must
   * only name what is really data. docs/FAMILIES.md has the whole grading order.
   */
  readonly rules?: readonly PolicyRule[];
}

/**
 * Declare a family (checks its shape once, so a typo fails at definition, not deep in a decode).
 * @example
 * export const MY_FAMILY = defineFamily({ name: 'mine', globals: { 'mypkg.Point': { call: (a) => [...a] } } });
 */
export function defineFamily(family: Family): Family {
  if (
    typeof family !== 'object' ||
    family === null ||
    typeof family.name !== 'string' ||
    family.name === ''
  ) {
    throw new TypeError('a family needs a non-empty name');
  }
  for (const [key, h] of Object.entries(family.globals ?? {})) {
    if (!/^[^.\s]+(\.[^.\s]+)*\.[^.\s]+$/.test(key))
      throw new TypeError(`family ${family.name}: global key ${JSON.stringify(key)} is not module.name`);
    if (typeof h !== 'object' || h === null)
      throw new TypeError(`family ${family.name}: handler of ${key} is not an object`);
  }
  if (family.reduce !== undefined && typeof family.reduce !== 'function') {
    throw new TypeError(`family ${family.name}: reduce must be a function`);
  }
  for (const r of family.rules ?? []) {
    if (r.severity !== 'safe' && r.severity !== 'dangerous')
      throw new TypeError(`family ${family.name}: bad rule severity`);
  }
  return family;
}

/** A list of families compiled for lookup. */
export class FamilySet {
  /** Decoding handlers by `module.name`; a later family's handler replaces an earlier one's. */
  readonly handlers: ReadonlyMap<string, GlobalHandler>;
  /** Encoding reducers, the user's families first (so they can override a built-in representation). */
  readonly reducers: readonly Reducer[];
  readonly policy: Policy;

  constructor(readonly families: readonly Family[]) {
    const handlers = new Map<string, GlobalHandler>();
    for (const f of families) for (const [k, h] of Object.entries(f.globals ?? {})) handlers.set(k, h);
    this.handlers = handlers;
    this.reducers = families
      .slice()
      .reverse()
      .flatMap((f) => (f.reduce ? [f.reduce] : []));
    this.policy = new Policy(BASE_RULES, families);
  }
}
