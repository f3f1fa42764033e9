// Owned by the torch family: describes src/torch values as scripts/fixtures_torch.py does
// (tensor / qtensor / sparse rows, see that file's docstring).
import type { Desc, DescribeChild } from './describe.js';
import { Complex } from '../../src/python/values.js';
import { Parameter, QuantizedTensor, SparseTensor, Tensor } from '../../src/torch/tensor.js';
import { pyFloatRepr } from './pyfloat.js';

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}

const FLOATS = new Set([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'float8_e4m3fn',
  'float8_e5m2',
  'float8_e4m3fnuz',
  'float8_e5m2fnuz',
  'float8_e8m0fnu',
]);

/** toNested() values as the Python side writes tolist(): float reprs, int strings, bools, complex pairs. */
export function plainList(v: unknown, isFloat: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => plainList(x, isFloat));
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Complex) return { re: pyFloatRepr(v.re), im: pyFloatRepr(v.im) };
  if (typeof v === 'number') return isFloat ? pyFloatRepr(v) : String(v);
  throw new Error(`unexpected element ${String(v)}`);
}

export function tensorDesc(t: Tensor | SparseTensor): Desc {
  if (t instanceof SparseTensor) {
    const d: Record<string, unknown> = { t: 'sparse', layout: t.layout, shape: t.shape };
    if (t.layout === 'sparse_coo') d['indices'] = tensorDesc(t.indices as Tensor);
    else {
      d['crow'] = tensorDesc(t.compressedIndices as Tensor);
      d['col'] = tensorDesc(t.plainIndices as Tensor);
    }
    d['values'] = tensorDesc(t.values);
    d['dense'] = tensorDesc(t.toDense());
    return d as Desc;
  }
  const d: Record<string, unknown> = {
    t: 'tensor',
    dtype: t.dtype,
    shape: t.shape,
    stride: t.stride,
    offset: t.storageOffset,
    requires_grad: t.requiresGrad,
  };
  if (t instanceof Parameter) d['cls'] = 'torch.nn.parameter.Parameter';
  if (t.device !== 'cpu') d['device'] = t.device.split(':')[0];
  if (t.storage === null) {
    d['data'] = null;
    return d as Desc;
  }
  if (t instanceof QuantizedTensor) {
    d['t'] = 'qtensor';
    if (t.scales) {
      d['qscheme'] = 'per_channel_affine';
      d['scales'] = [...(t.scales.data as Float64Array)].map(pyFloatRepr);
      d['zero_points'] = [...(t.zeroPoints?.data as BigInt64Array)].map(String);
      d['axis'] = t.axis;
    } else {
      d['qscheme'] = 'per_tensor_affine';
      d['scale'] = pyFloatRepr(t.scale as number);
      d['zero_point'] = String(t.zeroPoint);
    }
    // torch's int_repr() of the packed types gives the packed bytes.
    const packed = t.dtype === 'quint4x2' || t.dtype === 'quint2x4';
    d['data'] = hex(packed ? (t.storage as { bytes: Uint8Array }).bytes : t.intRepr().bytes());
    d['list'] = plainList(t.toNested(), true);
    return d as Desc;
  }
  d['data'] = hex(t.bytes());
  d['list'] = plainList(t.toNested(), FLOATS.has(t.dtype));
  return d as Desc;
}

export function describeTorch(v: unknown, _child: DescribeChild): Desc | undefined {
  if (v instanceof Tensor || v instanceof SparseTensor) return tensorDesc(v);
  return undefined;
}
