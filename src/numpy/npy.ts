// STUB — owned by the numpy family, which replaces this file.
/** True when `data` starts with the .npy magic. */
export function isNpy(data: Uint8Array): boolean {
  return data.length >= 6 && data[0] === 0x93 && data[1] === 0x4e && data[2] === 0x55 && data[3] === 0x4d && data[4] === 0x50 && data[5] === 0x59;
}
/** Read a .npy file; object arrays are pickles decoded with `unpickle`. */
export function readNpy(_data: Uint8Array, _unpickle: (pickle: Uint8Array) => unknown): unknown {
  throw new Error('not implemented yet');
}
