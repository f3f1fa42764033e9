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
import { handlerTable, type GlobalHandler } from '../unpickle/registry.js';
import { defineFamily, type PolicyRule } from '../family.js';
import { numpyReducer } from './encode.js';
import { DType, dtypeFromReduce } from './dtype.js';
import {
  MaskedArray,
  NDArray,
  NO_BYTES,
  className,
  ndarrayFromFrombuffer,
  scalarFromReduce,
} from './ndarray.js';

export { DType, isDType, NATIVE_ORDER } from './dtype.js';
export type { DTypeKind, ByteOrder, DTypeField, DTypeSubarray, DescrEntry } from './dtype.js';
export {
  NDArray,
  MaskedArray,
  NumpyScalar,
  ndarrayFromBuffer,
  lazyNDArray,
  isLoaded,
  ndarrayFromState,
  arrayByteLength,
  checkShape,
} from './ndarray.js';
export type { NDArrayData, NDArrayInit, ArrayOrder, NumericTypedArray } from './ndarray.js';
export { halfToNumber, numberToHalf } from './elements.js';
export { isNpy, readNpy, parseNpyHeader } from './npy.js';
export { typedArrayReducer } from './encode.js';
export type { NpyHeader } from './npy.js';

/** The module paths numpy 1.x and 2.x use for the same functions (docs/FORMATS.md §4.3). */
const CORE = ['numpy.core', 'numpy._core'];
const names = (suffixes: string[]): string[] => CORE.flatMap((c) => suffixes.map((s) => `${c}.${s}`));

/** What `_reconstruct` makes before BUILD (int8, shape (0,)); one shared dtype, BUILD replaces it. */
const PLACEHOLDER_DTYPE = new DType('i', 1);

const NUMPY_GLOBALS = handlerTable((register) => {
  const dtype: GlobalHandler = {
    call: (args, ctx) => dtypeFromReduce(args, ctx),
    construct: (args, _kwargs, ctx) => dtypeFromReduce(args, ctx),
  };
  register('numpy.dtype', dtype);

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
  register(
    names(['multiarray._reconstruct', '_multiarray_umath._reconstruct', '_internal._reconstruct']),
    reconstruct,
  );

  const frombuffer: GlobalHandler = { call: (args, ctx) => ndarrayFromFrombuffer(args, ctx) };
  register(names(['numeric._frombuffer']), frombuffer);

  const scalar: GlobalHandler = { call: (args, ctx) => scalarFromReduce(args, ctx) };
  register(names(['multiarray.scalar', '_multiarray_umath.scalar']), scalar);

  register('numpy.ma.core._mareconstruct', {
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
});

const NUMPY_CORE = ['numpy.core', 'numpy._core'];

/**
 * The numpy family: dtypes, arrays (plain, masked, matrix, memmap), scalars, numpy 1 and 2 names,
 * in both directions; numpy's type objects and random-state constructors are safe globals.
 */
export const NUMPY_FAMILY = defineFamily({
  name: 'numpy',
  globals: NUMPY_GLOBALS,
  reduce: numpyReducer,
  rules: [
    ...['dtype', 'ndarray', 'matrix', 'memmap', 'recarray', 'record', 'void'].map((n): PolicyRule => ({
      name: `numpy.${n}`,
      severity: 'safe',
      reason: 'numpy type',
    })),
    ...NUMPY_CORE.flatMap((c) =>
      ['multiarray.dtype', 'records.recarray', 'memmap.memmap', 'defchararray.chararray'].map(
        (n): PolicyRule => ({ name: `${c}.${n}`, severity: 'safe', reason: 'numpy array class' }),
      ),
    ),
    ...[
      'numpy.matrixlib.defmatrix.matrix',
      'numpy.ma.core.MaskedArray',
      'numpy.ma.core.mvoid',
      'numpy.ma.core.MaskedConstant',
    ].map((name): PolicyRule => ({ name, severity: 'safe', reason: 'numpy array class' })),
    ...[
      '_pickle.__randomstate_ctor',
      '_pickle.__generator_ctor',
      '_pickle.__bit_generator_ctor',
      '__RandomState_ctor',
      'mtrand.RandomState',
      '_generator.Generator',
      '_mt19937.MT19937',
      '_pcg64.PCG64',
      '_pcg64.PCG64DXSM',
      '_philox.Philox',
      '_sfc64.SFC64',
      'bit_generator.SeedSequence',
    ].map((n): PolicyRule => ({ name: `numpy.random.${n}`, severity: 'safe', reason: 'numpy random state' })),
    {
      name: /^numpy\.(bool_?|u?int(8|16|32|64|c|p)?|u?longlong|u?short|u?byte|half|single|double|longdouble|float(16|32|64|96|128)|complex(64|128|192|256)|c?longdouble|clongfloat|csingle|cdouble|str_|bytes_|unicode_|string_|object_|datetime64|timedelta64|generic|number|integer|signedinteger|unsignedinteger|floating|complexfloating|inexact|flexible|character)$/,
      severity: 'safe',
      reason: 'numpy scalar type',
    },
    { name: /^numpy\.dtypes\.[A-Za-z0-9]+DType$/, severity: 'safe', reason: 'numpy dtype class' },
  ],
});
