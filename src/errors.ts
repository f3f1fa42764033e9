/** Base class of every error picklejar throws on purpose. */
export class PickleError extends Error {
  override name = 'PickleError';
}

/**
 * Every failure to decode. `offset` is the byte offset of the opcode being executed (or of the
 * offending byte when no opcode applies), `opcode` its name when known.
 */
export class UnpicklingError extends PickleError {
  override name = 'UnpicklingError';
  readonly offset: number;
  readonly opcode: string | undefined;
  constructor(message: string, offset = -1, opcode?: string) {
    const where =
      offset >= 0 ? (opcode ? ` (opcode ${opcode} at byte ${offset})` : ` (at byte ${offset})`) : '';
    super(message + where);
    this.offset = offset;
    this.opcode = opcode;
  }
}

/** Every refusal to encode. `path` names the offending value, e.g. `root.items[3].owner`. */
export class PicklingError extends PickleError {
  override name = 'PicklingError';
  readonly path: string;
  constructor(message: string, path = 'root') {
    super(`${message} (at ${path})`);
    this.path = path;
  }
}
