/**
 * The vitest-free core of the hostile-suite harness (test/helpers/hostile.ts): prototype snapshots
 * and the outcome type scenarios report. Sandbox workers import this module, so it must not import
 * vitest.
 */
const WATCHED: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Map.prototype', Map.prototype],
  ['Set.prototype', Set.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['BigInt.prototype', BigInt.prototype],
  ['Uint8Array.prototype', Uint8Array.prototype],
  ['TypedArray.prototype', Object.getPrototypeOf(Uint8Array.prototype) as object],
  ['Error.prototype', Error.prototype],
  ['Promise.prototype', Promise.prototype],
];

export type ProtoSnapshot = Map<string, Map<PropertyKey, PropertyDescriptor>>;

/** Every own property (descriptor) of the watched prototypes, plus their own prototypes. */
export function protoSnapshot(): ProtoSnapshot {
  const snap: ProtoSnapshot = new Map();
  for (const [name, proto] of WATCHED) {
    const m = new Map<PropertyKey, PropertyDescriptor>();
    for (const k of Reflect.ownKeys(proto))
      m.set(k, Object.getOwnPropertyDescriptor(proto, k) as PropertyDescriptor);
    m.set('[[Prototype]]', { value: Object.getPrototypeOf(proto) });
    m.set('[[Extensible]]', { value: Object.isExtensible(proto) });
    snap.set(name, m);
  }
  return snap;
}

function sameDescriptor(a: PropertyDescriptor, b: PropertyDescriptor): boolean {
  return (
    Object.is(a.value, b.value) &&
    a.get === b.get &&
    a.set === b.set &&
    a.writable === b.writable &&
    a.enumerable === b.enumerable &&
    a.configurable === b.configurable
  );
}

/** Names of watched properties that were added, removed or changed since `before`. */
export function protoChanges(before: ProtoSnapshot): string[] {
  const after = protoSnapshot();
  const changes: string[] = [];
  for (const [name, was] of before) {
    const now = after.get(name) as Map<PropertyKey, PropertyDescriptor>;
    for (const [k, d] of now) {
      const old = was.get(k);
      if (old === undefined) changes.push(`${name}.${String(k)} added`);
      else if (!sameDescriptor(old, d)) changes.push(`${name}.${String(k)} changed`);
    }
    for (const k of was.keys()) if (!now.has(k)) changes.push(`${name}.${String(k)} removed`);
  }
  // A fresh object must still be empty and inherit nothing new.
  const probe = {} as Record<string, unknown>;
  for (const k of ['polluted', 'isAdmin', 'x', 'constructor_', 'hacked']) {
    if (probe[k] !== undefined) changes.push(`({}).${k} is ${String(probe[k])}`);
  }
  return changes;
}

/**
 * A cheap fingerprint for per-case checks: how many own keys each watched prototype has, and the
 * identity of every value on Object.prototype and Array.prototype. The full descriptor comparison
 * (`protoChanges`) runs once per test through `watchPrototypes()`.
 */
export function protoQuick(): unknown[] {
  const out: unknown[] = [];
  for (const [, proto] of WATCHED) out.push(Reflect.ownKeys(proto).length, Object.getPrototypeOf(proto));
  for (const proto of [Object.prototype, Array.prototype]) {
    for (const k of Reflect.ownKeys(proto)) {
      if (k !== '__proto__') out.push((proto as Record<PropertyKey, unknown>)[k]);
    }
  }
  return out;
}

export function quickDiffers(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return true;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return true;
  return false;
}

/** What a scenario reports about one consumer run (structured-cloneable). */
export interface ConsumerOutcome {
  readonly consumer: string;
  /** 'value': returned; 'pickle-error': threw a PickleError; 'crash': threw anything else. */
  readonly kind: 'value' | 'pickle-error' | 'crash';
  readonly ms: number;
  readonly errorName?: string;
  readonly message?: string;
  /** Size of the output (string length or byte length) when the consumer returned. */
  readonly outputSize?: number;
  /** Prototype changes seen after the run (must be empty). */
  readonly protoChanges: string[];
}
