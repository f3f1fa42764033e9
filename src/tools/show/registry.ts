/**
 * Which renderer shows which class of value. A value's renderer is the one registered for its class
 * or the nearest registered ancestor class, so new kinds of values (torch tensors, …) plug in with one
 * `register` call and no change to the tree walker.
 */
import {
  ByteArray,
  Complex,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
} from '../../python/values.js';
import { PyDecimal, PyFraction, PyPytzTimezone, PySafeUUID, PyUUID } from '../../python/stdlib.js';
import { PyDate, PyDateTime, PyTime, PyTimedelta, PyTimezone, PyZoneInfo } from '../../python/datetime.js';
import { DType, NDArray, NumpyScalar } from '../../numpy/index.js';
import { DataFrame, PandasExtensionArray, PandasIndex, Series } from '../../pandas/index.js';
import type { ShowRenderer } from './model.js';
import { dtypeRenderer, ndarrayRenderer, scalarRenderer } from './numpy.js';
import { dataFrameRenderer, extensionArrayRenderer, indexRenderer, seriesRenderer } from './pandas.js';
import { registerTorch } from './torch.js';
import {
  byteArrayRenderer,
  bytesRenderer,
  complexRenderer,
  CONTAINER_CLASSES,
  containerRenderer,
  dateRenderer,
  globalRenderer,
  objectRenderer,
  pickleBufferRenderer,
  rangeRenderer,
  sliceRenderer,
  stdlibRenderer,
  unknownRenderer,
} from './python.js';

/** A class whose instances a renderer shows. */
export type ShowClass<T> = abstract new (...args: never[]) => T;

/** Renderers by class. */
export class ShowRegistry {
  readonly #byPrototype = new Map<object, ShowRenderer<never>>();

  /**
   * Show instances of `cls` (and of its subclasses without a renderer of their own) with `renderer`.
   * @example
   * registry.register(Tensor, { expand: (t) => ({ type: 'torch.Tensor', summary: t.dtype, head: [seg('tensor')], expandable: false }) });
   */
  register<T extends object>(cls: ShowClass<T>, renderer: ShowRenderer<T>): this {
    this.#byPrototype.set(cls.prototype as object, renderer as ShowRenderer<never>);
    return this;
  }

  /**
   * The renderer for an object value: its class's, or the nearest ancestor's. Plain objects (dicts of
   * the default decoding) get the dict renderer; objects of unregistered classes a generic one.
   * @example
   * registry.lookup(new Map()); // the dict renderer
   */
  lookup(v: object): ShowRenderer<object> {
    const own = Object.getPrototypeOf(v) as object | null;
    if (own === null || own === Object.prototype) return containerRenderer;
    for (let p: object | null = own; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      const r = this.#byPrototype.get(p);
      if (r !== undefined) return r as unknown as ShowRenderer<object>;
    }
    return unknownRenderer;
  }

  /** A copy to extend without changing this one. */
  clone(): ShowRegistry {
    const c = new ShowRegistry();
    for (const [p, r] of this.#byPrototype) c.#byPrototype.set(p, r);
    return c;
  }
}

/**
 * The registry `picklejar show` uses: builtins, the stdlib value types, numpy, pandas and torch.
 * @example
 * const mine = defaultShowRegistry().register(MyClass, myRenderer);
 */
export function defaultShowRegistry(): ShowRegistry {
  const r = new ShowRegistry();
  for (const cls of CONTAINER_CLASSES) r.register(cls as ShowClass<object>, containerRenderer);
  r.register(Uint8Array, bytesRenderer)
    .register(ByteArray, byteArrayRenderer)
    .register(Complex, complexRenderer)
    .register(PyGlobal, globalRenderer)
    .register(PyRange, rangeRenderer)
    .register(PySlice, sliceRenderer)
    .register(PickleBuffer, pickleBufferRenderer)
    .register(Date, dateRenderer)
    .register(PyObject, objectRenderer)
    .register(NDArray, ndarrayRenderer)
    .register(NumpyScalar, scalarRenderer)
    .register(DType, dtypeRenderer)
    .register(DataFrame, dataFrameRenderer)
    .register(Series, seriesRenderer)
    .register(PandasIndex, indexRenderer)
    .register(PandasExtensionArray, extensionArrayRenderer);
  for (const cls of [
    PyDateTime,
    PyDate,
    PyTime,
    PyTimedelta,
    PyTimezone,
    PyZoneInfo,
    PyPytzTimezone,
    PyDecimal,
    PyFraction,
    PyUUID,
    PySafeUUID,
  ])
    r.register(cls as ShowClass<object>, stdlibRenderer);
  return registerTorch(r);
}
