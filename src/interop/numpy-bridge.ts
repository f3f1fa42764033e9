/**
 * How numpy values travel through jsonpickle (`jsonpickle.ext.numpy`). Placeholder until the numpy
 * family's value classes exist: no value is recognised as numpy, and numpy JSON is refused.
 */
export type NumpyField = { readonly kind: 'raw'; readonly text: string } | { readonly kind: 'value'; readonly value: unknown };

/** A numpy value as a `py/object` dict: its class name and members in order. */
export interface NumpyJsonPickle {
  readonly className: string;
  readonly fields: readonly [string, NumpyField][];
}

export function numpyForJsonPickle(_value: object): NumpyJsonPickle | undefined {
  return undefined;
}

import type { JObject } from './json-text.js';
import type { Reader } from './jsonpickle-read.js';

/** Is this `py/object` one of jsonpickle's numpy forms (array, scalar, dtype)? */
export function isNumpyJsonPickle(_name: string, _o: JObject): boolean {
  return false;
}

export function* readNumpyJsonPickle(name: string, _o: JObject, reader: Reader): Generator<never, unknown, unknown> {
  throw reader.error(`numpy value ${name} is not supported yet`);
}
