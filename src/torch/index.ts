/** The torch family: tensors, storages, rebuild handlers, the writer (re-exports). */
export { Tensor, Parameter, QuantizedTensor, SparseTensor } from './tensor.js';
export type { TensorInit, QParams, QScheme, SparseLayout } from './tensor.js';
export { Storage } from './storage.js';
export type { StorageInit } from './storage.js';
export { TorchDType, TorchDevice, TorchEnum } from './rebuild.js';
export type { TorchDTypeInfo } from './dtypes.js';
export { TORCH_FAMILY } from './family.js';
export { dumpsTorch } from './write.js';
export type { TorchDumpOptions } from './write.js';
