/** The torch family: tensors, storages, rebuild handlers, the writer (re-exports). */
export { Tensor, Parameter, QuantizedTensor, SparseTensor, contiguousStrides } from './tensor.js';
export type { TensorInit, QParams, QScheme, SparseLayout } from './tensor.js';
export { Storage } from './storage.js';
export type { StorageInit } from './storage.js';
export { TorchDType, TorchDevice, TorchEnum, StorageType, TORCH_HANDLERS } from './rebuild.js';
export { TORCH_DTYPES, dtypeInfo } from './dtypes.js';
export type { TorchDTypeInfo } from './dtypes.js';
export { TORCH_FAMILY } from './family.js';
export { torchReducer, TORCH_SAFE_GLOBALS } from './reduce.js';
export { dumpsTorch } from './write.js';
export type { TorchDumpOptions } from './write.js';
