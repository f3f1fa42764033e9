/** User options resolved once per call, in the shape the decoding machine reads. */
import { UnpicklingError } from '../errors.js';
import type { FamilySet } from '../family.js';
import type { Policy } from './policy.js';
import { DEFAULT_LIMITS, type Limits, type LoadOptions } from './options.js';
import type { GlobalHandler } from './registry.js';

export interface Resolved {
  lossless: boolean;
  encoding: 'ascii' | 'latin1' | 'bytes' | 'utf-8';
  limits: Limits;
  /** The families' handlers, and the user's `constructors` over them. */
  handlers: ReadonlyMap<string, GlobalHandler>;
  constructors: ReadonlyMap<string, GlobalHandler> | undefined;
  policy: Policy;
  persistentLoad: ((pid: unknown) => unknown) | undefined;
  extensions: Readonly<Record<number, readonly [string, string]>> | undefined;
  buffers: Iterator<Uint8Array> | undefined;
  aliases: [string, string][];
  unknownGlobals: 'inert' | 'error';
  dangerousGlobals: 'error' | 'inert';
  readSibling: ((name: string) => Uint8Array | undefined) | undefined;
  /** Array payloads read from a positioned source only when first used (load(path, {lazy: true})). */
  lazy: boolean;
  /** Array and tensor payloads copied into SharedArrayBuffers (postable to worker threads). */
  shared: boolean;
}

/** Normalise user options (handlers from `constructors` are looked up before the families'). */
export function resolveOptions(
  options: LoadOptions | undefined,
  families: FamilySet,
  readSibling?: (name: string) => Uint8Array | undefined,
): Resolved {
  const o = options ?? {};
  let constructors: Map<string, GlobalHandler> | undefined;
  if (o.constructors) {
    constructors = new Map();
    for (const [name, c] of Object.entries(o.constructors)) {
      if (typeof c === 'function') {
        constructors.set(name, {
          call: (args) => c([...args]),
          construct: (args, kwargs) => c([...args], kwargs),
        });
      } else constructors.set(name, c);
    }
  }
  const encoding = o.encoding ?? 'ascii';
  if (!['ascii', 'latin1', 'bytes', 'utf-8'].includes(encoding)) {
    throw new UnpicklingError(
      `unsupported encoding option ${JSON.stringify(encoding)}`,
      -1,
      undefined,
      'invalid-value',
    );
  }
  return {
    lossless: o.lossless === true,
    encoding,
    limits: { ...DEFAULT_LIMITS, ...(o.limits ?? {}) },
    handlers: families.handlers,
    constructors,
    policy: families.policy,
    persistentLoad: o.persistentLoad,
    extensions: o.extensions,
    buffers: o.buffers ? o.buffers[Symbol.iterator]() : undefined,
    aliases: Object.entries(o.moduleAliases ?? {}).sort((a, b) => b[0].length - a[0].length),
    unknownGlobals: o.unknownGlobals ?? 'inert',
    dangerousGlobals: o.dangerousGlobals ?? 'error',
    readSibling,
    lazy: o.lazy === true,
    shared: o.sharedMemory === true,
  };
}
