/**
 * The errors picklejar throws on purpose. Each carries a stable `code` (as fflate's errors do) so
 * callers and tests branch on the kind of failure instead of matching message text.
 */

/**
 * Why decoding failed.
 * - `truncated`: the input ends before the value does (a cut file, a missing STOP).
 * - `limit`: a resource limit of `LoadOptions.limits` was reached (the message names it).
 * - `dangerous-global`: a global that runs code or touches the system was refused by policy.
 * - `unknown-global`: a global no family knows, refused because `unknownGlobals: 'error'`.
 * - `bad-opcode`: a byte that is no opcode where an opcode must be.
 * - `stack`: stack or mark misuse (underflow, missing MARK, wrong operand types for an opcode).
 * - `memo`: a memo fetch of a slot never stored, or an invalid memo index.
 * - `unhashable`: a dict key or set member Python cannot hash.
 * - `invalid-value`: an operand or argument Python would reject (bad literal, bad text, bad state).
 * - `unsupported`: valid input this reader does not handle (an unknown protocol, a missing hook).
 * - `corrupt`: a container (compressed stream, zip, .npy, torch archive) whose structure is broken.
 * - `wrong-format`: the input is a known format that is not one picklejar reads (HDF5, a plain zip…).
 * - `io`: a file could not be read.
 */
export type UnpicklingErrorCode =
  | 'truncated'
  | 'limit'
  | 'dangerous-global'
  | 'unknown-global'
  | 'bad-opcode'
  | 'stack'
  | 'memo'
  | 'unhashable'
  | 'invalid-value'
  | 'unsupported'
  | 'corrupt'
  | 'wrong-format'
  | 'io';

/**
 * Why encoding was refused.
 * - `unpicklable`: a JS value with no Python counterpart (a function, a symbol, `undefined`, an unknown class).
 * - `unhashable`: a dict key or set member Python cannot hash.
 * - `globals-not-allowed`: the value needs a global outside the safe subset and `allowGlobals` is off.
 * - `protocol`: the value cannot be written at the protocol asked for.
 * - `invalid-value`: a value of the right type whose content is invalid (a bad level, a bad shape…).
 * - `limit`: the value is too large or too deep for the format.
 * - `io`: the output file could not be written.
 */
export type PicklingErrorCode =
  'unpicklable' | 'unhashable' | 'globals-not-allowed' | 'protocol' | 'invalid-value' | 'limit' | 'io';

export type PickleErrorCode = UnpicklingErrorCode | PicklingErrorCode;

/** Base class of every error picklejar throws on purpose. */
export class PickleError extends Error {
  override name = 'PickleError';
  /** The kind of failure; stable across releases (messages are not). */
  readonly code: PickleErrorCode;
  constructor(message: string, code: PickleErrorCode) {
    super(message);
    this.code = code;
  }
}

/**
 * Every failure to decode. `offset` is the byte offset of the opcode being executed (or of the
 * offending byte when no opcode applies), `opcode` its name when known.
 * @example
 * try { loads(bytes) } catch (e) { if (e instanceof UnpicklingError && e.code === 'truncated') … }
 */
export class UnpicklingError extends PickleError {
  override name = 'UnpicklingError';
  declare readonly code: UnpicklingErrorCode;
  readonly offset: number;
  readonly opcode: string | undefined;
  constructor(message: string, offset = -1, opcode?: string, code?: UnpicklingErrorCode) {
    const where =
      offset >= 0 ? (opcode ? ` (opcode ${opcode} at byte ${offset})` : ` (at byte ${offset})`) : '';
    super(message + where, code ?? inferUnpicklingCode(message));
    this.offset = offset;
    this.opcode = opcode;
  }
}

/**
 * Every refusal to encode. `path` names the offending value, e.g. `root.items[3].owner`.
 * @example
 * try { dumps({ f: () => 1 }) } catch (e) { (e as PicklingError).path } // 'root.f'
 */
export class PicklingError extends PickleError {
  override name = 'PicklingError';
  declare readonly code: PicklingErrorCode;
  readonly path: string;
  constructor(message: string, path = 'root', code?: PicklingErrorCode) {
    super(`${message} (at ${path})`, code ?? inferPicklingCode(message));
    this.path = path;
  }
}

/**
 * The code of a decoding failure whose thrower did not name one. Throw sites in the decoder name
 * their code; this covers families and handlers that only pass a message.
 */
function inferUnpicklingCode(message: string): UnpicklingErrorCode {
  if (message.includes('truncated')) return 'truncated';
  if (message.includes('limits.')) return 'limit';
  if (message.startsWith('unhashable')) return 'unhashable';
  if (message.startsWith('corrupt')) return 'corrupt';
  return 'invalid-value';
}

function inferPicklingCode(message: string): PicklingErrorCode {
  if (message.startsWith('unhashable')) return 'unhashable';
  if (message.includes('allowGlobals')) return 'globals-not-allowed';
  return 'unpicklable';
}
