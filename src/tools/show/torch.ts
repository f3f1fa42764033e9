/**
 * torch values in the show tree: tensors (dtype, shape, notes, and the same preview numpy arrays get),
 * parameters, quantized, sparse and meta tensors, bare storages, TorchScript archives, dtypes and
 * devices; and the totals of a torch file (tensors, storages, parameter count, bytes by dtype).
 */
import { Complex } from '../../python/values.js';
import { Parameter, QuantizedTensor, SparseTensor, Tensor } from '../../torch/tensor.js';
import { Storage } from '../../torch/storage.js';
import { StorageType, TorchDType, TorchDevice, TorchEnum } from '../../torch/rebuild.js';
import { dtypeInfo, valuesPerByte } from '../../torch/dtypes.js';
import { TorchScriptArchive } from '../../containers/torchscript-archive.js';
import { compactNum, formatSize, shapeText, visibleLength } from './format.js';
import { seg, type ArrayInfo, type Segment, type ShowChild, type ShowRenderer } from './model.js';
import { fitPreview, LAZY_PREVIEW_BYTES, NOT_LOADED } from './numpy.js';
import type { ShowRegistry } from './registry.js';

/** Tensors of at least this many bytes show their size in the head (as numpy arrays do). */
const SIZE_SHOWN = 10_000;

/** Is the dtype one whose elements print as floats? */
function floatKind(dtype: string): boolean {
  const k = dtypeInfo(dtype)?.kind ?? '';
  return k.startsWith('f') || k === 'bf16' || k.startsWith('e');
}

function valueText(v: unknown, asFloat: boolean): string {
  if (typeof v === 'number') return compactNum(v, asFloat);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof Complex)
    return `${compactNum(v.re, false)}${v.im < 0 ? '-' : '+'}${compactNum(Math.abs(v.im), false)}j`;
  return String(v);
}

/** The element reader of a preview: quantized tensors show their real values `(q - zero_point) × scale`. */
function elementReader(t: Tensor): (idx: number[]) => unknown {
  if (!(t instanceof QuantizedTensor)) return (idx) => t.get(...idx);
  if (t.scales !== undefined) {
    const ax = t.axis as number;
    const scales = t.scales;
    const zps = t.zeroPoints as Tensor;
    return (idx) => {
      const c = idx[ax] as number;
      return (Number(t.get(...idx)) - Number(zps.get(c))) * Number(scales.get(c));
    };
  }
  const s = Math.fround(t.scale as number);
  const z = t.zeroPoint as number;
  return (idx) => Math.fround((Number(t.get(...idx)) - z) * s);
}

/**
 * A tensor's preview fitted to `budget` characters, as numpy arrays get it: `[[0.1, …, 0.5], …]`.
 * @example
 * tensorPreview(Tensor.fromValues('float32', [1, 2, 3]), 40) // '[1.0, 2.0, 3.0]'
 */
function tensorPreview(t: Tensor, budget = Infinity): string {
  const asFloat = floatKind(t.dtype) || t instanceof QuantizedTensor;
  const read = elementReader(t);
  return fitPreview({ shape: t.shape, size: t.numel, text: (idx) => valueText(read(idx), asFloat) }, budget);
}

/** Same values: same storage, dtype, offset, shape, strides and bits (tied weights). */
function sameView(a: Tensor, b: Tensor): boolean {
  return (
    a.storage === b.storage &&
    a.dtype === b.dtype &&
    a.storageOffset === b.storageOffset &&
    a.conj === b.conj &&
    a.neg === b.neg &&
    a.shape.join() === b.shape.join() &&
    a.stride.join() === b.stride.join()
  );
}

/**
 * Which tensors use each storage, by the path of the first one met, so the tree can say that a
 * tensor is tied to another or shares its storage. Built by `torchIndex`.
 */
export interface TorchIndex {
  /** Per storage: the tensors using it, in the order met, with their paths. */
  readonly users: ReadonlyMap<Storage, readonly { readonly tensor: Tensor; readonly path: string }[]>;
}

/** The notes of a tensor's head: requires_grad, quantization, views, sharing, device. */
function tensorNotes(t: Tensor, index: TorchIndex | undefined): string[] {
  const notes: string[] = [];
  if (t.requiresGrad) notes.push('requires_grad');
  if (t instanceof QuantizedTensor) {
    if (t.scales !== undefined) notes.push(`per-channel axis=${t.axis ?? '?'} (${t.scales.numel} scales)`);
    else notes.push(`scale=${compactNum(t.scale as number, true)} zero_point=${t.zeroPoint}`);
  }
  if (!t.storage) {
    notes.push(t.device === 'meta' ? 'meta (no data)' : `${t.device} (no data)`);
    return notes;
  }
  if (t.device !== 'cpu') notes.push(`saved on ${t.device}`);
  if (t.conj) notes.push('conj');
  if (t.neg) notes.push('neg');
  const users = index?.users.get(t.storage);
  if (users !== undefined && users.length > 1) {
    const first = users[0] as { tensor: Tensor; path: string };
    if (first.tensor !== t) {
      notes.push(sameView(first.tensor, t) ? `tied to ${first.path}` : `shares storage with ${first.path}`);
      return notes;
    }
    notes.push(`storage shared by ${users.length} tensors`);
  }
  const info = dtypeInfo(t.dtype);
  const packed = info ? valuesPerByte(info) : 1;
  const whole =
    t.storageOffset === 0 &&
    Math.ceil(t.numel / packed) * t.itemsize === t.storage.nbytes &&
    t.isContiguous();
  if (!whole) {
    const parts = [];
    if (!t.isContiguous()) parts.push(`stride ${shapeText(t.stride)}`);
    if (t.storageOffset !== 0) parts.push(`offset ${t.storageOffset}`);
    parts.push(`of ${formatSize(t.storage.nbytes)}`);
    notes.push(`view (${parts.join(', ')})`);
  }
  return notes;
}

function tensorClass(t: Tensor): string {
  return t instanceof Parameter ? 'Parameter' : 'Tensor';
}

function tensorType(t: Tensor): string {
  return t instanceof Parameter ? 'torch.nn.parameter.Parameter' : 'torch.Tensor';
}

/** The head segments `Tensor float32 (3, 4) 48 KiB notes` and the room it leaves for the preview. */
function headOf(
  cls: string,
  dtype: string,
  shape: readonly number[],
  nbytes: number | undefined,
  notes: string[],
): Segment[] {
  let head = `${cls} ${dtype} ${shapeText(shape)}`;
  if (nbytes !== undefined && nbytes >= SIZE_SHOWN) head += ` ${formatSize(nbytes)}`;
  const out = [seg(head, 'type')];
  if (notes.length > 0) out.push(seg(' '), seg(notes.join(', '), 'note'));
  return out;
}

function width(segments: readonly Segment[]): number {
  let n = 0;
  for (const s of segments) n += visibleLength(s.text);
  return n;
}

/**
 * The tensor renderer; with an index (see `torchIndex`) heads also say which tensors are tied or
 * share a storage.
 * @example
 * registry.register(Tensor, tensorRenderer(torchIndex(value)));
 */
function tensorRenderer(index?: TorchIndex): ShowRenderer<Tensor> {
  return {
    expand(t, ctx) {
      const nbytes = t.storage ? t.numel * t.itemsize : undefined;
      const head = headOf(tensorClass(t), t.dtype, t.shape, nbytes, tensorNotes(t, index));
      // A lazily opened file's large storages stay unread (see LAZY_PREVIEW_BYTES).
      const summary = !t.storage
        ? ''
        : t.storage.loaded || t.storage.nbytes <= LAZY_PREVIEW_BYTES
          ? tensorPreview(t, ctx.budget - width(head) - 1)
          : NOT_LOADED;
      const array: ArrayInfo = {
        className: tensorClass(t),
        dtype: t.dtype,
        shape: [...t.shape],
        nbytes,
        summary,
        masked: false,
      };
      return {
        type: tensorType(t),
        summary,
        head: summary === '' ? head : [...head, seg(' '), seg(summary)],
        array,
        expandable: false,
      };
    },
    tally: () => ({ kind: 'none' }),
  };
}

const sparseRenderer: ShowRenderer<SparseTensor> = {
  expand(t, ctx) {
    const nnz = t.values.shape[0] ?? 1;
    const notes = [`nnz=${nnz}`];
    if (t.requiresGrad) notes.push('requires_grad');
    // torch < 2.0 does not save is_coalesced: only a saved True is worth a note.
    if (t.coalesced) notes.push('coalesced');
    const head = headOf(`Tensor ${t.layout}`, t.dtype, t.shape, undefined, notes);
    let summary = '';
    if (t.values.storage) {
      const v = `values ${tensorPreview(t.values, ctx.budget - width(head) - 8)}`;
      summary = v;
    }
    return {
      type: 'torch.Tensor',
      summary,
      head: summary === '' ? head : [...head, seg(' '), seg(summary)],
      expandable: false,
    };
  },
  tally: () => ({ kind: 'none' }),
};

const storageRenderer: ShowRenderer<Storage> = {
  expand(s) {
    const info = dtypeInfo(s.dtype);
    const n = info ? Math.floor(s.nbytes / info.itemsize) : s.nbytes;
    const cls = s.untyped ? 'UntypedStorage' : `Storage ${s.dtype}`;
    const summary = `${n} element${n === 1 ? '' : 's'}, ${formatSize(s.nbytes)}${s.key ? `, key ${JSON.stringify(s.key)}` : ''}`;
    return {
      type: 'torch.storage',
      summary,
      head: [seg(cls, 'type'), seg(' '), seg(summary, 'note')],
      expandable: false,
    };
  },
};

const torchScriptRenderer: ShowRenderer<TorchScriptArchive> = {
  expand(a) {
    const children: ShowChild[] = [
      { label: 'module', value: a.module },
      { label: 'constants', value: a.constants },
    ];
    for (const [name, bytes] of a.extra) children.push({ label: `extra/${name}`, value: bytes });
    return {
      type: 'TorchScript archive',
      summary: '',
      head: [seg('TorchScript archive', 'type')],
      children,
      expandable: true,
    };
  },
  tally: () => ({ kind: 'none' }),
  *members(a) {
    yield a.module;
    yield a.constants;
  },
};

/** torch.float32, torch.device('cuda:0'), torch.per_tensor_affine, torch.FloatStorage. */
const torchAtomRenderer: ShowRenderer<TorchDType | TorchDevice | TorchEnum | StorageType> = {
  atom: () => true,
  expand(v) {
    const text =
      v instanceof TorchDevice
        ? `device(${JSON.stringify(v.toString()).replace(/"/g, "'")})`
        : v instanceof StorageType
          ? v.toString()
          : v.toString();
    const type =
      v instanceof TorchDType ? 'torch.dtype' : v instanceof TorchDevice ? 'torch.device' : 'torch';
    return { type, summary: text, head: [seg(text, 'num')], expandable: false };
  },
};

/**
 * Register the torch renderers in `r`.
 * @example
 * registerTorch(defaultShowRegistry().clone(), torchIndex(value));
 */
export function registerTorch(r: ShowRegistry, index?: TorchIndex): ShowRegistry {
  return r
    .register(Tensor, tensorRenderer(index))
    .register(SparseTensor, sparseRenderer)
    .register(Storage, storageRenderer)
    .register(TorchScriptArchive, torchScriptRenderer)
    .register(TorchDType, torchAtomRenderer)
    .register(TorchDevice, torchAtomRenderer)
    .register(TorchEnum, torchAtomRenderer)
    .register(StorageType, torchAtomRenderer);
}

// ---------------------------------------------------------------------------------------------
// The walk: tensor paths and totals
// ---------------------------------------------------------------------------------------------

/** Python-like path text of a child label under `parent`. */
function childPath(parent: string, label: string): string {
  if (parent === '') return label;
  if (label.startsWith('[')) return parent + label;
  if (label.startsWith("'") || label.startsWith('"') || /^-?\d/.test(label)) return `${parent}[${label}]`;
  return `${parent}.${label}`;
}

/**
 * Every tensor reachable from `roots`, with a path (dict keys as the tree labels them), in the order
 * the show tree meets them: the expansion of each value by `registry` gives its children.
 */
function walkTensors(
  roots: readonly unknown[],
  registry: ShowRegistry,
  visit: (t: Tensor | SparseTensor | Storage, path: string) => void,
): void {
  const seen = new Set<object>();
  const ctx = { items: Infinity, lossless: true, budget: 0, lineBudget: 0 };
  const stack: [unknown, string][] = roots.map((r) => [r, ''] as [unknown, string]).reverse();
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor || v instanceof SparseTensor || v instanceof Storage) {
      visit(v, path === '' ? 'root' : path);
      continue;
    }
    const renderer = registry.lookup(v);
    if (renderer.atom?.(v) === true) continue;
    let children: readonly ShowChild[];
    // A light expansion: only containers and objects have children (arrays of numbers do not).
    try {
      children = renderer.expand(v, ctx).children ?? [];
    } catch {
      children = [];
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i] as ShowChild;
      stack.push([c.value, childPath(path, c.label)]);
    }
  }
}

/** What a torch file holds, for the summary line of `show`. */
export interface TorchTotals {
  readonly tensors: number;
  readonly storages: number;
  /** Elements of the distinct tensor views (tied weights counted once). */
  readonly parameters: number;
  /** Bytes of the distinct storages, by dtype, largest first. */
  readonly bytesByDtype: readonly (readonly [string, number])[];
  /** Tensors without data (meta). */
  readonly withoutData: number;
}

/**
 * The index of storage users (for `tensorRenderer`) and the totals of the tensors reachable from
 * `roots`, in one walk.
 * @example
 * const { index, totals } = torchIndex([value], defaultShowRegistry());
 */
export function torchIndex(
  roots: readonly unknown[],
  registry: ShowRegistry,
): { index: TorchIndex; totals: TorchTotals } {
  const users = new Map<Storage, { tensor: Tensor; path: string }[]>();
  const views = new Set<string>();
  const storageIds = new Map<Storage, number>();
  const bytes = new Map<string, number>();
  let tensors = 0;
  let parameters = 0;
  let withoutData = 0;
  const addStorage = (s: Storage, dtype: string): void => {
    if (storageIds.has(s)) return;
    storageIds.set(s, storageIds.size);
    bytes.set(dtype, (bytes.get(dtype) ?? 0) + s.nbytes);
  };
  const addTensor = (t: Tensor, path: string | undefined): void => {
    if (!t.storage) {
      withoutData++;
      parameters += t.numel;
      return;
    }
    if (!storageIds.has(t.storage)) addStorage(t.storage, t.storage.untyped ? t.dtype : t.storage.dtype);
    const id = storageIds.get(t.storage) as number;
    const key = `${id}|${t.dtype}|${t.storageOffset}|${t.shape.join(',')}|${t.stride.join(',')}`;
    if (!views.has(key)) {
      views.add(key);
      parameters += t.numel;
    }
    if (path !== undefined) {
      const list = users.get(t.storage) ?? [];
      list.push({ tensor: t, path });
      users.set(t.storage, list);
    }
  };
  walkTensors(roots, registry, (v, path) => {
    if (v instanceof Storage) {
      addStorage(v, v.dtype);
      return;
    }
    tensors++;
    if (v instanceof SparseTensor) {
      for (const part of [v.values, v.indices, v.compressedIndices, v.plainIndices])
        if (part?.storage) addStorage(part.storage, part.dtype);
      parameters += v.values.numel;
      return;
    }
    addTensor(v, path);
  });
  return {
    index: { users },
    totals: {
      tensors,
      storages: storageIds.size,
      parameters,
      bytesByDtype: [...bytes.entries()].sort((a, b) => b[1] - a[1]),
      withoutData,
    },
  };
}

/** `1,234,567`. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The totals as summary-line parts: `8 tensors in 7 storages`, `1,234 parameters`, `float32 4.8 KiB`, …
 * @example
 * torchTotalsText(torchIndex([value], registry).totals) // ['8 tensors in 7 storages', '57 parameters', 'float32 212 bytes', …]
 */
export function torchTotalsText(t: TorchTotals): string[] {
  if (t.tensors === 0 && t.storages === 0) return [];
  const parts = [
    `${grouped(t.tensors)} tensor${t.tensors === 1 ? '' : 's'} in ${grouped(t.storages)} storage${t.storages === 1 ? '' : 's'}`,
    `${grouped(t.parameters)} parameter${t.parameters === 1 ? '' : 's'}`,
  ];
  if (t.withoutData > 0) parts.push(`${t.withoutData} without data`);
  for (const [dtype, n] of t.bytesByDtype) parts.push(`${dtype} ${formatSize(n)}`);
  return parts;
}
