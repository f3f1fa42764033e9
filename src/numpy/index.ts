/**
 * The numpy family: dtypes, arrays, scalars and `.npy` files, decoded without numpy.
 *
 * Handlers registered (numpy 1.x `numpy.core.*` and numpy 2.x `numpy._core.*` names alike):
 * - `numpy.dtype` → DType (completed by BUILD in place)
 * - `…multiarray._reconstruct` → an empty NDArray completed by BUILD with the array state
 * - `…numeric._frombuffer` → NDArray (protocol 5, in-band or out-of-band buffers)
 * - `…multiarray.scalar` → NumpyScalar
 * - `numpy.ma.core._mareconstruct` → MaskedArray (completed by BUILD)
 */
import type { GlobalHandler, GlobalRegistry } from '../unpickle/registry.js';
import { DType, dtypeFromReduce } from './dtype.js';
import { MaskedArray, NDArray, NO_BYTES, className, ndarrayFromFrombuffer, scalarFromReduce } from './ndarray.js';

export {
  DType,
  isDType,
  applyDTypeState,
  dtypeFromReduce,
  DTYPE_FLAGS,
  DATETIME_UNITS,
  NATIVE_ORDER,
} from './dtype.js';
export type { DTypeKind, ByteOrder, DTypeField, DTypeSubarray, DescrEntry } from './dtype.js';
export {
  NDArray,
  MaskedArray,
  NumpyScalar,
  ndarrayFromBuffer,
  ndarrayFromState,
  arrayByteLength,
  checkShape,
  maskDType,
} from './ndarray.js';
export type { NDArrayData, NDArrayInit, ArrayOrder, NumericTypedArray } from './ndarray.js';
export { halfToNumber, numberToHalf } from './elements.js';
export { isNpy, readNpy, parseNpyHeader } from './npy.js';
export {
  NUMPY_FAMILY,
  ndarrayReducer,
  dtypeReducer,
  scalarReducer,
  typedArrayReducer,
  ndarrayReduction,
  dtypeReduction,
  scalarReduction,
} from './encode.js';
export type { NpyHeader } from './npy.js';

/** The module paths numpy 1.x and 2.x use for the same functions (FORMATS.md §4.3). */
const CORE = ['numpy.core', 'numpy._core'];
const names = (suffixes: string[]): string[] => CORE.flatMap((c) => suffixes.map((s) => `${c}.${s}`));

/** What `_reconstruct` makes before BUILD (int8, shape (0,)); one shared dtype, BUILD replaces it. */
const PLACEHOLDER_DTYPE = new DType('i', 1);

/** Register the numpy handlers into `registry`. */
export function registerNumpy(registry: GlobalRegistry): GlobalRegistry {
  const dtype: GlobalHandler = {
    call: (args, ctx) => dtypeFromReduce(args, ctx),
    construct: (args, _kwargs, ctx) => dtypeFromReduce(args, ctx),
  };
  registry.register('numpy.dtype', dtype);

  const reconstruct: GlobalHandler = {
    call: (args, ctx) => {
      if (args.length !== 3) throw ctx.error(`_reconstruct expects 3 arguments, got ${args.length}`);
      // args: (cls, shape (0,), typecode b'b'); BUILD supplies everything else.
      return new NDArray({
        dtype: PLACEHOLDER_DTYPE,
        shape: [0],
        raw: NO_BYTES,
        subclass: className(args[0], 'numpy.ndarray'),
      });
    },
  };
  // (_internal._reconstruct: where very old numpy releases pickled arrays from; same arguments.)
  registry.register(names(['multiarray._reconstruct', '_multiarray_umath._reconstruct', '_internal._reconstruct']), reconstruct);

  const frombuffer: GlobalHandler = { call: (args, ctx) => ndarrayFromFrombuffer(args, ctx) };
  registry.register(names(['numeric._frombuffer']), frombuffer);

  const scalar: GlobalHandler = { call: (args, ctx) => scalarFromReduce(args, ctx) };
  registry.register(names(['multiarray.scalar', '_multiarray_umath.scalar']), scalar);

  registry.register('numpy.ma.core._mareconstruct', {
    call: (args, ctx) => {
      if (args.length !== 4) throw ctx.error(`_mareconstruct expects 4 arguments, got ${args.length}`);
      const m = new MaskedArray({
        dtype: PLACEHOLDER_DTYPE,
        shape: [0],
        raw: NO_BYTES,
        subclass: className(args[0], 'numpy.ma.core.MaskedArray'),
      });
      m.baseclass = className(args[1], 'numpy.ndarray');
      return m;
    },
  });
  return registry;
}
