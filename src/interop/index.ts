/** Interop with other JSON forms: jsonpickle (reversible) and a plain, human JSON view (lossy). */
export { toJsonPickle } from './jsonpickle-write.js';
export type { ToJsonPickleOptions } from './jsonpickle-write.js';
export { fromJsonPickle } from './jsonpickle-read.js';
export type { FromJsonPickleOptions } from './jsonpickle-read.js';
export { toJSONValue, toPlainJson } from './jsonview.js';
export type { JSONValue, JSONViewOptions } from './jsonview.js';
