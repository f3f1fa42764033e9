/**
 * Which codec serves a compressor name: one registered by `ready()`, else one built in. In Node every
 * codec is built in; a browser bundle has none until `ready()` registers them (builtin.browser.ts),
 * which keeps compressors out of bundles that never read or write compressed joblib data.
 */
import { PicklingError, UnpicklingError } from '../errors.js';
import { BUILTIN_CODECS } from './builtin.node.js';
import { type Codec, type CodecName, DISPLAY_NAMES } from './types.js';

const registered: Partial<Record<CodecName, Codec>> = {};

/** Make `codecs` available to every later `codecFor` call (by `ready()`). */
export function registerCodecs(codecs: Partial<Record<CodecName, Codec>>): void {
  for (const [name, codec] of Object.entries(codecs) as [CodecName, Codec][]) registered[name] = codec;
}

/**
 * The codec for `name`, or a typed error saying how to get it: UnpicklingError when reading,
 * PicklingError when writing (codes 'unsupported' and 'invalid-value').
 * @example
 * codecFor('zlib', 'read').decode(bytes, 1 << 30);
 */
export function codecFor(name: CodecName, use: 'read' | 'write'): Codec {
  const codec = Object.hasOwn(registered, name) ? registered[name] : BUILTIN_CODECS[name];
  if (codec !== undefined) return codec;
  const why =
    `${DISPLAY_NAMES[name]}-compressed data: this browser build loads its compressors on request; ` +
    'call `await ready()` (from picklejar) once first';
  if (use === 'read') throw new UnpicklingError(why, -1, undefined, 'unsupported');
  throw new PicklingError(why, 'root', 'invalid-value');
}
