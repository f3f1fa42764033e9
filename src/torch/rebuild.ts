/**
 * Decoding handlers of the torch family: the rebuild functions of `torch._utils` (docs/FORMATS.md §8.3),
 * storage classes, dtypes, `torch.Size`, `torch.device`, qschemes, layouts and the TorchScript
 * `torch.jit._pickle` helpers. Each handler checks its arguments and builds inert JS values.
 */
import { PyGlobal, PyObject, Tuple, isPlainObject } from '../python/values.js';
import type { DecodeContext, GlobalHandler } from '../unpickle/registry.js';
import { NDArray } from '../numpy/ndarray.js';
import { Storage } from './storage.js';
import { DTYPE_ALIASES, STORAGE_DTYPES, TORCH_DTYPES, dtypeInfo, isQuantizedDType } from './dtypes.js';
import {
  Parameter,
  QuantizedTensor,
  SparseTensor,
  Tensor,
  type QScheme,
  type SparseLayout,
  type TensorInit,
} from './tensor.js';

/** A torch dtype object (`torch.float32`) met as a value. */
export class TorchDType {
  constructor(readonly name: string) {}
  toString(): string {
    return `torch.${this.name}`;
  }
}

/** A storage class (`torch.FloatStorage`, `torch.UntypedStorage`) met as a value. */
export class StorageType {
  /** `module.name` as written. */
  constructor(
    readonly module: string,
    readonly name: string,
    /** Element dtype ('uint8' for UntypedStorage). */
    readonly dtype: string,
  ) {}
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `torch.device('cuda', 0)` met as a value. */
export class TorchDevice {
  constructor(
    readonly type: string,
    readonly index: number | null,
  ) {}
  toString(): string {
    return this.index === null ? this.type : `${this.type}:${this.index}`;
  }
}

/** A qscheme (`torch.per_tensor_affine`) or layout (`torch.sparse_coo`) met as a value. */
export class TorchEnum {
  constructor(
    readonly kind: 'qscheme' | 'layout' | 'memory_format',
    readonly name: string,
  ) {}
  toString(): string {
    return `torch.${this.name}`;
  }
}

const QSCHEMES = [
  'per_tensor_affine',
  'per_channel_affine',
  'per_tensor_symmetric',
  'per_channel_symmetric',
  'per_channel_affine_float_qparams',
];
const LAYOUTS = [
  'strided',
  'sparse_coo',
  'sparse_csr',
  'sparse_csc',
  'sparse_bsr',
  'sparse_bsc',
  '_mkldnn',
  'jagged',
];
const MEMORY_FORMATS = ['contiguous_format', 'channels_last', 'channels_last_3d', 'preserve_format'];

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

function int(v: unknown, what: string, ctx: DecodeContext): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v);
  throw ctx.error(`${what} must be an int, got ${describe(v)}`);
}

function num(v: unknown, what: string, ctx: DecodeContext): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw ctx.error(`${what} must be a number, got ${describe(v)}`);
}

function ints(v: unknown, what: string, ctx: DecodeContext): number[] {
  if (!Array.isArray(v)) throw ctx.error(`${what} must be a tuple of ints, got ${describe(v)}`);
  return v.map((x, i) => int(x, `${what}[${i}]`, ctx));
}

function bool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function storageArg(v: unknown, fn: string, ctx: DecodeContext): Storage {
  if (v instanceof Storage) return v;
  throw ctx.error(`${fn}: the storage argument is ${describe(v)}, not a storage (persistent id)`);
}

function dtypeArg(v: unknown, ctx: DecodeContext): string {
  if (v instanceof TorchDType) return v.name;
  if (v instanceof PyGlobal && v.module === 'torch' && dtypeInfo(v.name))
    return (dtypeInfo(v.name) as { name: string }).name;
  throw ctx.error(`expected a torch dtype, got ${describe(v)}`);
}

/** Keys of the optional metadata dict (`{'conj': True}`); TorchScript passes an int-keyed dict. */
function metadataFlag(meta: unknown, key: string): boolean {
  if (meta instanceof Map) return bool(meta.get(key));
  if (isPlainObject(meta)) return bool(meta[key]);
  return false;
}

/** A tensor over `storage`, with the storage's dtype unless given. */
function tensorOver(
  storage: Storage,
  offset: unknown,
  size: unknown,
  stride: unknown,
  ctx: DecodeContext,
  extra: Partial<TensorInit> = {},
): TensorInit {
  const init: TensorInit = {
    dtype: extra.dtype ?? storage.dtype,
    shape: ints(size, 'size', ctx),
    stride: ints(stride, 'stride', ctx),
    storageOffset: int(offset, 'storage offset', ctx),
    storage,
    ...extra,
  };
  return init;
}

function make<T>(ctx: DecodeContext, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw ctx.error(e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Rebuild functions
// ---------------------------------------------------------------------------------------------

function rebuildTensor(args: Tuple, ctx: DecodeContext): Tensor {
  if (args.length !== 4) throw ctx.error(`_rebuild_tensor expects 4 arguments, got ${args.length}`);
  const s = storageArg(args[0], '_rebuild_tensor', ctx);
  return make(ctx, () => new Tensor(tensorOver(s, args[1], args[2], args[3], ctx)));
}

function rebuildTensorV2(args: Tuple, ctx: DecodeContext): Tensor {
  if (args.length !== 6 && args.length !== 7)
    throw ctx.error(`_rebuild_tensor_v2 expects 6 or 7 arguments, got ${args.length}`);
  const s = storageArg(args[0], '_rebuild_tensor_v2', ctx);
  const meta = args[6];
  return make(
    ctx,
    () =>
      new Tensor(
        tensorOver(s, args[1], args[2], args[3], ctx, {
          requiresGrad: bool(args[4]),
          conj: metadataFlag(meta, 'conj'),
          neg: metadataFlag(meta, 'neg'),
        }),
      ),
  );
}

function rebuildTensorV3(args: Tuple, ctx: DecodeContext): Tensor {
  if (args.length !== 7 && args.length !== 8)
    throw ctx.error(`_rebuild_tensor_v3 expects 7 or 8 arguments, got ${args.length}`);
  const s = storageArg(args[0], '_rebuild_tensor_v3', ctx);
  const dtype = dtypeArg(args[6], ctx);
  const meta = args[7];
  return make(
    ctx,
    () =>
      new Tensor(
        tensorOver(s, args[1], args[2], args[3], ctx, {
          dtype,
          requiresGrad: bool(args[4]),
          conj: metadataFlag(meta, 'conj'),
          neg: metadataFlag(meta, 'neg'),
        }),
      ),
  );
}

function asParameter(data: unknown, requiresGrad: unknown, ctx: DecodeContext): Parameter {
  if (!(data instanceof Tensor) || data instanceof QuantizedTensor) {
    throw ctx.error(`_rebuild_parameter: data is ${describe(data)}, not a tensor`);
  }
  return make(
    ctx,
    () =>
      new Parameter({
        dtype: data.dtype,
        shape: data.shape,
        stride: data.stride,
        storageOffset: data.storageOffset,
        storage: data.storage,
        requiresGrad: bool(requiresGrad),
        device: data.device,
        conj: data.conj,
        neg: data.neg,
      }),
  );
}

/** Python attributes from a `__dict__` (or `(dict, slots)`) state. */
function stateAttributes(state: unknown): Map<string, unknown> | undefined {
  const out = new Map<string, unknown>();
  const add = (d: unknown): void => {
    if (d instanceof Map) for (const [k, v] of d) out.set(String(k), v);
    else if (isPlainObject(d)) for (const [k, v] of Object.entries(d)) out.set(k, v);
  };
  if (state instanceof Tuple && state.length === 2) {
    add(state[0]);
    add(state[1]);
  } else add(state);
  return out.size > 0 ? out : undefined;
}

function rebuildQTensor(args: Tuple, ctx: DecodeContext): QuantizedTensor {
  if (args.length !== 7) throw ctx.error(`_rebuild_qtensor expects 7 arguments, got ${args.length}`);
  const s = storageArg(args[0], '_rebuild_qtensor', ctx);
  const q = args[4];
  if (!Array.isArray(q) || q.length < 1)
    throw ctx.error('_rebuild_qtensor: quantizer parameters must be a tuple');
  const scheme = q[0] instanceof TorchEnum ? q[0].name : q[0] instanceof PyGlobal ? q[0].name : undefined;
  if (scheme === undefined || !QSCHEMES.includes(scheme))
    throw ctx.error(`_rebuild_qtensor: unknown qscheme ${describe(q[0])}`);
  const dtype = isQuantizedDType(s.dtype)
    ? s.dtype
    : s.dtype === 'int8'
      ? 'qint8'
      : s.dtype === 'uint8'
        ? 'quint8'
        : s.dtype === 'int32'
          ? 'qint32'
          : s.dtype;
  const init = tensorOver(s, args[1], args[2], args[3], ctx, { dtype, requiresGrad: bool(args[5]) });
  if (scheme === 'per_tensor_affine' || scheme === 'per_tensor_symmetric') {
    if (q.length !== 3)
      throw ctx.error('_rebuild_qtensor: per-tensor parameters are (qscheme, scale, zero_point)');
    return make(
      ctx,
      () =>
        new QuantizedTensor(init, {
          qscheme: scheme as QScheme,
          scale: num(q[1], 'scale', ctx),
          zeroPoint: int(q[2], 'zero_point', ctx),
        }),
    );
  }
  if (q.length !== 4 || !(q[1] instanceof Tensor) || !(q[2] instanceof Tensor)) {
    throw ctx.error('_rebuild_qtensor: per-channel parameters are (qscheme, scales, zero_points, axis)');
  }
  const scales = q[1];
  const zeroPoints = q[2];
  return make(
    ctx,
    () =>
      new QuantizedTensor(init, {
        qscheme: scheme as QScheme,
        scales,
        zeroPoints,
        axis: int(q[3], 'axis', ctx),
      }),
  );
}

function layoutArg(v: unknown, ctx: DecodeContext): SparseLayout {
  let name: string | undefined;
  if (v instanceof TorchEnum) name = v.name;
  else if (typeof v === 'number' || typeof v === 'bigint') {
    // TorchScript writes the layout as its enum value.
    name = (
      { 1: 'sparse_coo', 2: 'sparse_csr', 3: 'sparse_csc', 4: 'sparse_bsr', 5: 'sparse_bsc' } as Record<
        number,
        string
      >
    )[Number(v)];
  }
  if (
    name === 'sparse_coo' ||
    name === 'sparse_csr' ||
    name === 'sparse_csc' ||
    name === 'sparse_bsr' ||
    name === 'sparse_bsc'
  )
    return name;
  throw ctx.error(`unsupported sparse layout ${describe(v)}`);
}

function rebuildSparse(args: Tuple, ctx: DecodeContext): SparseTensor {
  if (args.length !== 2 || !Array.isArray(args[1]))
    throw ctx.error('_rebuild_sparse_tensor expects (layout, data)');
  const layout = layoutArg(args[0], ctx);
  const data = args[1] as unknown[];
  if (layout === 'sparse_coo') {
    if (data.length !== 3 && data.length !== 4)
      throw ctx.error('sparse COO data must be (indices, values, size[, is_coalesced])');
    const [indices, values, size] = data;
    if (!(indices instanceof Tensor) || !(values instanceof Tensor))
      throw ctx.error('sparse COO indices and values must be tensors');
    return make(
      ctx,
      () =>
        new SparseTensor({
          layout,
          shape: ints(size, 'size', ctx),
          indices,
          values,
          coalesced: data.length === 4 && bool(data[3]),
        }),
    );
  }
  if (data.length !== 4)
    throw ctx.error(`${layout} data must be (compressed_indices, plain_indices, values, size)`);
  const [ci, pi, values, size] = data;
  if (!(ci instanceof Tensor) || !(pi instanceof Tensor) || !(values instanceof Tensor))
    throw ctx.error(`${layout} indices and values must be tensors`);
  return make(
    ctx,
    () =>
      new SparseTensor({
        layout,
        shape: ints(size, 'size', ctx),
        compressedIndices: ci,
        plainIndices: pi,
        values,
      }),
  );
}

/** torch 1.10-1.13 `_rebuild_sparse_csr_tensor(layout, (crow, col, values, size))`. */
function rebuildSparseCsr(args: Tuple, ctx: DecodeContext): SparseTensor {
  return rebuildSparse(args, ctx);
}

function rebuildMeta(args: Tuple, ctx: DecodeContext): Tensor {
  if (args.length !== 4)
    throw ctx.error(`_rebuild_meta_tensor_no_storage expects 4 arguments, got ${args.length}`);
  const dtype = dtypeArg(args[0], ctx);
  return make(
    ctx,
    () =>
      new Tensor({
        dtype,
        shape: ints(args[1], 'size', ctx),
        stride: ints(args[2], 'stride', ctx),
        storage: null,
        requiresGrad: bool(args[3]),
        device: 'meta',
      }),
  );
}

function rebuildWrapperSubclass(args: Tuple, ctx: DecodeContext): Tensor {
  // (cls, dtype, size, stride, storage_offset, layout, device, requires_grad): no data.
  if (args.length !== 8) throw ctx.error(`_rebuild_wrapper_subclass expects 8 arguments, got ${args.length}`);
  const dtype = dtypeArg(args[1], ctx);
  const device =
    args[6] instanceof TorchDevice ? args[6].toString() : typeof args[6] === 'string' ? args[6] : 'meta';
  return make(
    ctx,
    () =>
      new Tensor({
        dtype,
        shape: ints(args[2], 'size', ctx),
        stride: ints(args[3], 'stride', ctx),
        storageOffset: int(args[4], 'storage offset', ctx),
        storage: null,
        requiresGrad: bool(args[7]),
        device,
      }),
  );
}

function rebuildFromNumpy(args: Tuple, ctx: DecodeContext): Tensor {
  // (ndarray, dtype, device, requires_grad)
  if (args.length !== 4 || !(args[0] instanceof NDArray))
    throw ctx.error('_rebuild_device_tensor_from_numpy expects (ndarray, dtype, device, requires_grad)');
  const a = args[0];
  const dtype = dtypeArg(args[1], ctx);
  const native = a.dtype.isNativeOrder ? a : a.toNative();
  const c =
    native.order === 'C' ? native.raw : NDArray.fromValues(native.dtype, native.toArray(), native.shape).raw;
  const storage = new Storage({ dtype, nbytes: c.length, bytes: c });
  const device =
    args[2] instanceof TorchDevice ? args[2].toString() : typeof args[2] === 'string' ? args[2] : 'cpu';
  return make(
    ctx,
    () => new Tensor({ dtype, shape: native.shape, storage, requiresGrad: bool(args[3]), device }),
  );
}

/** `torch._tensor._rebuild_from_type_v2(func, new_type, args, state)`: a tensor subclass. */
function rebuildFromTypeV2(
  args: Tuple,
  ctx: DecodeContext,
  handlers: Record<string, GlobalHandler>,
): unknown {
  if (args.length !== 4 || !Array.isArray(args[2]))
    throw ctx.error('_rebuild_from_type_v2 expects (func, new_type, args, state)');
  const func = args[0];
  const h = func instanceof PyGlobal ? handlers[func.qualifiedName] : undefined;
  if (!h?.call) return new PyObject(new PyGlobal('torch._tensor', '_rebuild_from_type_v2'), 'reduce', args);
  const inner = h.call(Tuple.from_(args[2] as unknown[]), ctx);
  const cls = args[1];
  let out = inner;
  if (
    inner instanceof Tensor &&
    cls instanceof PyGlobal &&
    cls.qualifiedName === 'torch.nn.parameter.Parameter' &&
    !(inner instanceof Parameter)
  ) {
    out = asParameter(inner, inner.requiresGrad, ctx);
  }
  if (out instanceof Tensor) out.attributes = stateAttributes(args[3]) ?? out.attributes;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The handler table
// ---------------------------------------------------------------------------------------------

/** Storage class names other than the dtype ones. */
const UNTYPED_STORAGES = ['UntypedStorage', '_UntypedStorage', 'ByteStorage'];

/** The storage type of a `module.name` global, when it is one (torch resolves any name containing Storage). */
export function storageTypeOf(module: string, name: string): StorageType | undefined {
  if (!name.endsWith('Storage')) return undefined;
  if (name === 'UntypedStorage' || name === '_UntypedStorage') return new StorageType(module, name, 'uint8');
  const dtype = STORAGE_DTYPES.get(name.startsWith('_') ? name.slice(1) : name);
  if (dtype === undefined) {
    // C++ ScalarType names + 'Storage' (TorchScript): Float, Double, Half, Long, …
    return undefined;
  }
  return new StorageType(module, name, dtype);
}

function buildHandlers(): Record<string, GlobalHandler> {
  const h: Record<string, GlobalHandler> = {};
  const fn = (name: string, call: (args: Tuple, ctx: DecodeContext) => unknown): void => {
    h[name] = { call, construct: (args, _kw, ctx) => call(args, ctx) };
  };
  fn('torch._utils._rebuild_tensor', rebuildTensor);
  fn('torch._utils._rebuild_tensor_v2', rebuildTensorV2);
  fn('torch._utils._rebuild_tensor_v3', rebuildTensorV3);
  fn('torch._utils._rebuild_parameter', (args, ctx) => {
    if (args.length !== 3) throw ctx.error(`_rebuild_parameter expects 3 arguments, got ${args.length}`);
    return asParameter(args[0], args[1], ctx);
  });
  fn('torch._utils._rebuild_parameter_with_state', (args, ctx) => {
    if (args.length !== 4)
      throw ctx.error(`_rebuild_parameter_with_state expects 4 arguments, got ${args.length}`);
    const p = asParameter(args[0], args[1], ctx);
    p.attributes = stateAttributes(args[3]);
    return p;
  });
  fn('torch._utils._rebuild_qtensor', rebuildQTensor);
  fn('torch._utils._rebuild_sparse_tensor', rebuildSparse);
  fn('torch._utils._rebuild_sparse_csr_tensor', rebuildSparseCsr);
  fn('torch._utils._rebuild_meta_tensor_no_storage', rebuildMeta);
  fn('torch._utils._rebuild_wrapper_subclass', rebuildWrapperSubclass);
  fn('torch._utils._rebuild_device_tensor_from_numpy', rebuildFromNumpy);
  fn('torch._utils._rebuild_xla_tensor', rebuildFromNumpy);
  fn('torch._utils._rebuild_mtia_tensor', rebuildFromNumpy);
  for (const m of ['torch._tensor', 'torch.tensor'])
    fn(`${m}._rebuild_from_type_v2`, (args, ctx) => rebuildFromTypeV2(args, ctx, h));
  fn('torch._tensor._rebuild_from_type', (args, ctx) => {
    // (func, type, args, dict)
    if (args.length !== 4 || !Array.isArray(args[2]))
      throw ctx.error('_rebuild_from_type expects (func, type, args, dict)');
    return rebuildFromTypeV2(args, ctx, h);
  });
  fn('torch.Size', (args, ctx) => {
    if (args.length > 1) throw ctx.error('torch.Size takes one sequence');
    return Tuple.from_(args.length === 0 ? [] : ints(args[0], 'torch.Size', ctx));
  });
  fn('torch.device', (args, ctx) => {
    const spec = args[0];
    if (typeof spec !== 'string') throw ctx.error('torch.device expects a string');
    let type = spec;
    let index: number | null = args.length > 1 && args[1] !== null ? int(args[1], 'device index', ctx) : null;
    const colon = spec.indexOf(':');
    if (colon >= 0) {
      type = spec.slice(0, colon);
      index = int(Number(spec.slice(colon + 1)), 'device index', ctx);
    }
    return new TorchDevice(type, index);
  });
  fn('torch.serialization._get_layout', (args, ctx) => {
    const name = typeof args[0] === 'string' ? args[0].replace(/^torch\./, '') : '';
    if (!LAYOUTS.includes(name)) throw ctx.error(`unknown layout ${JSON.stringify(args[0])}`);
    return new TorchEnum('layout', name);
  });
  // dtypes, qschemes, layouts, memory formats: bare references.
  const ref = (name: string, value: () => unknown): void => {
    h[name] = { reference: value };
  };
  for (const d of TORCH_DTYPES.keys()) ref(`torch.${d}`, () => new TorchDType(d));
  for (const [alias, d] of Object.entries(DTYPE_ALIASES)) ref(`torch.${alias}`, () => new TorchDType(d));
  for (const q of QSCHEMES) ref(`torch.${q}`, () => new TorchEnum('qscheme', q));
  for (const l of LAYOUTS) ref(`torch.${l}`, () => new TorchEnum('layout', l));
  for (const f of MEMORY_FORMATS) ref(`torch.${f}`, () => new TorchEnum('memory_format', f));
  // Storage classes under the modules torch writes them from.
  const storageNames = [...STORAGE_DTYPES.keys(), ...UNTYPED_STORAGES];
  for (const m of ['torch', 'torch.cuda', 'torch.storage']) {
    for (const n of storageNames) {
      h[`${m}.${n}`] = {
        reference: (ctx) => {
          const t = storageTypeOf(m, n);
          if (!t) throw ctx.error(`unknown storage class ${m}.${n}`);
          return t;
        },
      };
    }
  }
  h['torch.storage.TypedStorage'] = {
    reference: () => new StorageType('torch.storage', 'TypedStorage', 'uint8'),
  };
  // TorchScript's pickler helpers: identity on the value.
  const identity = (name: string, arity: number): void =>
    fn(`torch.jit._pickle.${name}`, (args, ctx) => {
      if (args.length !== arity)
        throw ctx.error(`torch.jit._pickle.${name} expects ${arity} arguments, got ${args.length}`);
      return args[0];
    });
  identity('restore_type_tag', 2);
  for (const n of ['build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist']) identity(n, 1);
  return h;
}

/** The torch family's decoding handlers by `module.name`. */
export const TORCH_HANDLERS: Readonly<Record<string, GlobalHandler>> = buildHandlers();
