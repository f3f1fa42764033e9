/**
 * The environment-neutral public API: everything that works on bytes, with no Node built-in. The
 * Node entry (index.ts) adds the file functions (`load`, `dump`, `dumpJoblib`, `dumpTorch`); the
 * browser entry (browser.ts) adds stand-ins for them that explain what to use instead. Re-exports only.
 */
export { loads, loadsAll } from './loads.js';
export { PickleError, UnpicklingError, PicklingError } from './errors.js';
export type { LoadOptions, Limits, Constructor } from './unpickle/options.js';
export { DEFAULT_LIMITS } from './unpickle/options.js';
export { SET_STATE, handlerTable } from './unpickle/registry.js';
export type { GlobalHandler, DecodeContext, SetStateable } from './unpickle/registry.js';
export { defineFamily } from './family.js';
export type { Family, PolicyRule, Severity } from './family.js';
export type { PickleErrorCode, UnpicklingErrorCode, PicklingErrorCode } from './errors.js';
export {
  Tuple,
  tuple,
  ByteArray,
  FrozenSet,
  PyGlobal,
  PyObject,
  Complex,
  PyRange,
  PySlice,
  PickleBuffer,
} from './python/values.js';
export type { PyObjectKind } from './python/values.js';
export { OPCODES, HIGHEST_PROTOCOL, DEFAULT_PROTOCOL } from './opcodes.js';
export type { OpcodeInfo, ArgKind } from './opcodes.js';
export {
  PyDate,
  PyDateTime,
  PyTime,
  PyTimedelta,
  PyTimezone,
  PyZoneInfo,
  PyDecimal,
  PyFraction,
  PyUUID,
  PySafeUUID,
  OrderedDict,
  DefaultDict,
  Counter,
  Deque,
} from './python/stdlib.js';
export { dumps, PyFloat, PyName, Reduced, reduceCall } from './pickle/index.js';
export type {
  DumpOptions,
  Protocol,
  Reduction,
  ReductionKind,
  Reducer,
  ReduceContext,
} from './pickle/index.js';
export { NDArray, DType, NumpyScalar, MaskedArray } from './numpy/index.js';
export type { NDArrayData, ArrayOrder, NumericTypedArray, DTypeKind, DTypeField } from './numpy/index.js';
export { DataFrame, Series, PandasIndex, PandasExtensionArray } from './pandas/index.js';
export { dumpsJoblib } from './joblib/write.js';
export type { JoblibDumpOptions, JoblibCompress } from './joblib/write.js';
export { PyPytzTimezone } from './python/stdlib.js';
export { PyPartial } from './python/builtins.js';
export { toJsonPickle, fromJsonPickle, toJSONValue, toPlainJson } from './interop/index.js';
export type {
  ToJsonPickleOptions,
  FromJsonPickleOptions,
  JSONValue,
  JSONViewOptions,
} from './interop/index.js';
export { disassemble, DisassemblyError } from './tools/dis.js';
export type { DisassembleOptions } from './tools/dis.js';
export { genops } from './tools/genops.js';
export { scan, scanStream, classifyGlobal } from './tools/scan/index.js';
export type { ScanReport, ScanGlobal, ScanOptions, ScanSeverity, ScanUse } from './tools/scan/index.js';
export { isDType, readNpy, isLoaded } from './numpy/index.js';
export { typedArrayReducer } from './numpy/encode.js';
export {
  Tensor,
  Parameter,
  QuantizedTensor,
  SparseTensor,
  Storage,
  TorchDType,
  TorchDevice,
  TorchEnum,
  TORCH_FAMILY,
  dumpsTorch,
} from './torch/index.js';
export type {
  TensorInit,
  QParams,
  QScheme,
  SparseLayout,
  StorageInit,
  TorchDumpOptions,
} from './torch/index.js';
export { TorchScriptArchive, picklesIn } from './containers/torch-archive.js';
export type { EmbeddedPickle } from './containers/torch-archive.js';
export { dumpsNpz, npyBytes } from './containers/npz.js';
export type { NpzOptions } from './containers/npz.js';
export { loadsSafetensors, dumpsSafetensors } from './containers/safetensors.js';
export { torchToSafetensors } from './containers/convert.js';
export type { Safetensors } from './containers/safetensors.js';
export { tensorToNDArray, ndarrayToTensor } from './containers/convert.js';
export type { TensorFormat } from './containers/convert.js';
export { ready } from './codecs/index.js';
export type { ReadyOptions } from './codecs/index.js';
export { buildShowTree, renderShowText, ShowRegistry, defaultShowRegistry } from './tools/show/index.js';
export type {
  ShowNode,
  ShowChild,
  ShowTreeOptions,
  ShowTextOptions,
  ShowRenderer,
} from './tools/show/index.js';
export { disassembleJoblib } from './tools/dis-joblib.js';
