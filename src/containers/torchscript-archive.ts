/** The value a TorchScript archive decodes to (its own module: the show core imports it without the zip reader). */

/**
 * What a TorchScript archive (`torch.jit.save`) decodes to.
 * @example
 * const ts = loads(bytes) as TorchScriptArchive; (ts.module as PyObject)['lin']
 */
export class TorchScriptArchive {
  constructor(
    /** The module object from `data.pkl`: parameters, buffers and submodules are its attributes. */
    readonly module: unknown,
    /** The tuple of `constants.pkl` (tensors the code refers to as CONSTANTS.cN). */
    readonly constants: unknown,
    /** `extra/<name>` files saved with `_extra_files`, by name. */
    readonly extra: ReadonlyMap<string, Uint8Array>,
  ) {}
}
