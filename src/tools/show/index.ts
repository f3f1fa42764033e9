/**
 * The show logic shared by the CLI's `show` and a viewer: value → tree of labelled nodes
 * (`buildShowTree`) → text lines (`renderShowText`) or any other rendering of the same nodes.
 * No Node built-ins.
 */
export type {
  ArrayInfo,
  Expansion,
  RenderContext,
  Role,
  Segment,
  ShowChild,
  ShowNode,
  ShowRenderer,
  Tally,
} from './model.js';
export { seg } from './model.js';
export { buildShowTree, type ShowTreeOptions } from './tree.js';
export { renderShowText, type ShowTextOptions } from './text.js';
export { ShowRegistry, defaultShowRegistry, type ShowClass } from './registry.js';
export { countValues, countsText, type ShowCounts } from './count.js';
export { formatSize } from './format.js';
export { type PreviewSource } from './numpy.js';
export { registerTorch, torchIndex, torchTotalsText } from './torch.js';
export type { TorchIndex, TorchTotals } from './torch.js';
