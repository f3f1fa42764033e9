/**
 * Writing tensors as torch.save does (torch 1.13/2.x `Tensor.__reduce_ex__`): each tensor becomes
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())`,
 * its storage a persistent id the archive writer supplies (see write.ts). Parameters wrap that in
 * `_rebuild_parameter`, quantized tensors use `_rebuild_qtensor`, sparse ones `_rebuild_sparse_tensor`.
 */
import { PyGlobal, Tuple } from '../python/values.js';
import { OrderedDict } from '../python/stdlib.js';
import { PyFloat, Reduced, type Reducer, type Reduction } from '../pickle/reducers.js';
import { PicklingError } from '../errors.js';
import { Parameter, QuantizedTensor, SparseTensor, Tensor } from './tensor.js';
import { TorchDevice } from './rebuild.js';
import { STORAGE_DTYPES, TORCH_DTYPES, DTYPE_ALIASES } from './dtypes.js';

const UTILS = 'torch._utils';

/** Every torch name the writer may emit as a bare global and `scan` grades safe. */
export const TORCH_SAFE_GLOBALS: readonly string[] = [
  ...[...STORAGE_DTYPES.keys(), 'UntypedStorage'].map((n) => `torch.${n}`),
  ...[...TORCH_DTYPES.keys(), ...Object.keys(DTYPE_ALIASES)].map((n) => `torch.${n}`),
  'torch.per_tensor_affine',
  'torch.per_channel_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
  'torch.sparse_coo',
  'torch.sparse_csr',
  'torch.strided',
  'torch.Size',
  'torch.device',
  'torch.serialization._get_layout',
  `${UTILS}._rebuild_tensor`,
  `${UTILS}._rebuild_tensor_v2`,
  `${UTILS}._rebuild_tensor_v3`,
  `${UTILS}._rebuild_parameter`,
  `${UTILS}._rebuild_parameter_with_state`,
  `${UTILS}._rebuild_qtensor`,
  `${UTILS}._rebuild_sparse_tensor`,
  `${UTILS}._rebuild_sparse_csr_tensor`,
  `${UTILS}._rebuild_meta_tensor_no_storage`,
  `${UTILS}._rebuild_wrapper_subclass`,
  `${UTILS}._rebuild_device_tensor_from_numpy`,
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.jit._pickle.restore_type_tag',
  'torch.jit._pickle.build_intlist',
  'torch.jit._pickle.build_tensorlist',
  'torch.jit._pickle.build_doublelist',
  'torch.jit._pickle.build_boollist',
];

const ints = (v: readonly number[]): Tuple => Tuple.from_(v.map((x) => BigInt(x)));

/** The plain-tensor view of `t` (same storage, offset, size, stride). */
function plain(t: Tensor, requiresGrad = t.requiresGrad): Tensor {
  return new Tensor({
    dtype: t.dtype,
    shape: t.shape,
    stride: t.stride,
    storageOffset: t.storageOffset,
    storage: t.storage,
    requiresGrad,
    device: t.device,
    conj: t.conj,
    neg: t.neg,
  });
}

function tensorReduction(t: Tensor): Reduction {
  if (!t.storage) {
    // Meta tensors: torch writes `_rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)`.
    return {
      callable: new PyGlobal(UTILS, '_rebuild_meta_tensor_no_storage'),
      kind: 'reduce',
      args: [new PyGlobal('torch', t.dtype), ints(t.shape), ints(t.stride), t.requiresGrad],
    };
  }
  if (t.conj || t.neg || t.storage.byteOrder !== 'little') {
    // torch < 2 cannot read the conj/neg metadata argument: write the resolved values instead.
    return tensorReduction(t.contiguous());
  }
  const info = TORCH_DTYPES.get(t.dtype);
  if (info?.storage === undefined || t.storage.untyped || t.storage.dtype !== t.dtype) {
    // Dtypes with no storage class (float8, uint16…): torch >= 2.1's v3 form over an untyped storage.
    return {
      callable: new PyGlobal(UTILS, '_rebuild_tensor_v3'),
      kind: 'reduce',
      args: [
        t.storage,
        BigInt(t.storageOffset),
        ints(t.shape),
        ints(t.stride),
        t.requiresGrad,
        new OrderedDict(),
        new PyGlobal('torch', t.dtype),
      ],
    };
  }
  return {
    callable: new PyGlobal(UTILS, '_rebuild_tensor_v2'),
    kind: 'reduce',
    args: [
      t.storage,
      BigInt(t.storageOffset),
      ints(t.shape),
      ints(t.stride),
      t.requiresGrad,
      new OrderedDict(),
    ],
  };
}

function qtensorReduction(q: QuantizedTensor): Reduction {
  if (!q.storage)
    throw new PicklingError('a quantized tensor without storage cannot be written', 'root', 'invalid-value');
  const scheme = new PyGlobal('torch', q.qscheme);
  const qparams =
    q.scales !== undefined
      ? Tuple.from_([scheme, q.scales, q.zeroPoints, BigInt(q.axis ?? 0)])
      : Tuple.from_([scheme, new PyFloat(q.scale ?? 1), BigInt(q.zeroPoint ?? 0)]);
  return {
    callable: new PyGlobal(UTILS, '_rebuild_qtensor'),
    kind: 'reduce',
    args: [
      q.storage,
      BigInt(q.storageOffset),
      ints(q.shape),
      ints(q.stride),
      qparams,
      q.requiresGrad,
      new OrderedDict(),
    ],
  };
}

function sparseReduction(s: SparseTensor): Reduction {
  const layout = new Reduced({
    callable: new PyGlobal('torch.serialization', '_get_layout'),
    kind: 'reduce',
    args: [`torch.${s.layout}`],
  });
  const size = new Reduced({
    callable: new PyGlobal('torch', 'Size'),
    kind: 'reduce',
    args: [ints(s.shape)],
  });
  if (s.layout === 'sparse_coo') {
    return {
      callable: new PyGlobal(UTILS, '_rebuild_sparse_tensor'),
      kind: 'reduce',
      args: [layout, Tuple.from_([s.indices, s.values, size])],
    };
  }
  return {
    callable: new PyGlobal(
      UTILS,
      s.layout === 'sparse_csr' ? '_rebuild_sparse_csr_tensor' : '_rebuild_sparse_tensor',
    ),
    kind: 'reduce',
    args: [layout, Tuple.from_([s.compressedIndices, s.plainIndices, s.values, size])],
  };
}

/**
 * The torch family's reducer: tensors, parameters, quantized and sparse tensors, dtypes, devices.
 * Storages are left to the archive writer's `persistentId` (a storage met without one is refused).
 */
export const torchReducer: Reducer = (value) => {
  if (value instanceof QuantizedTensor) return qtensorReduction(value);
  if (value instanceof Parameter) {
    const state = value.attributes;
    if (state && state.size > 0) {
      return {
        callable: new PyGlobal(UTILS, '_rebuild_parameter_with_state'),
        kind: 'reduce',
        args: [plain(value, false), value.requiresGrad, new OrderedDict(), state],
      };
    }
    return {
      callable: new PyGlobal(UTILS, '_rebuild_parameter'),
      kind: 'reduce',
      args: [plain(value, false), value.requiresGrad, new OrderedDict()],
    };
  }
  if (value instanceof Tensor) return tensorReduction(value);
  if (value instanceof SparseTensor) return sparseReduction(value);
  if (value instanceof TorchDevice) {
    return {
      callable: new PyGlobal('torch', 'device'),
      kind: 'reduce',
      args: value.index === null ? [value.type] : [value.type, BigInt(value.index)],
    };
  }
  return undefined;
};
