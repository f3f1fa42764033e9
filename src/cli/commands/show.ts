/** `picklejar show`: the show tree of the decoded value, as text fitted to the terminal. */
import {
  buildShowTree,
  countValues,
  countsText,
  defaultShowRegistry,
  registerTorch,
  renderShowText,
  torchIndex,
  torchTotalsText,
} from '../../tools/show/index.js';
import { visibleLength } from '../../tools/show/format.js';
import { flag, intOption } from '../args.js';
import { describeContainer } from '../input.js';
import type { Io } from '../specs.js';
import { decodeOperand, displayName, loadOptions, type Runner } from './common.js';

const TORCH_FORMATS: ReadonlySet<string> = new Set(['torch', 'torchscript', 'legacy-torch', 'safetensors']);

/** Width when stdout is not a terminal (pipes, files) and no --width is given. */
export const DEFAULT_WIDTH = 100;

/** --width, else the terminal's width, else DEFAULT_WIDTH; 0 means no limit. */
export function outputWidth(option: number | undefined, io: Io): number {
  const w = option ?? (io.columns !== undefined && io.columns > 0 ? io.columns : DEFAULT_WIDTH);
  return w === 0 ? Infinity : w;
}

/**
 * The summary line: `NAME: container details; counts`, wrapped where the next part does not fit
 * (the line ends with its separator, continuation lines are indented); the file name is never cut.
 */
function summaryLines(name: string, groups: readonly (readonly string[])[], width: number): string[] {
  const lines: string[] = [];
  let line = `${name}:`;
  let sep = ' ';
  groups.forEach((group, g) => {
    group.forEach((part, i) => {
      if (g > 0 || i > 0) sep = i === 0 ? '; ' : ', ';
      if (visibleLength(line) + sep.length + visibleLength(part) <= width) line += sep + part;
      else {
        lines.push(line + sep.trimEnd());
        line = '  ' + part;
      }
    });
  });
  lines.push(line);
  return lines;
}

export const show: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    // Always lossless: ints and floats stay apart, so 0.0 prints as 0.0 (--lossless is the default).
    const options = loadOptions(p, true, 'show');
    const all = flag(p, 'all');
    const { values, info } = await decodeOperand(name, p, options, io, 'show', all);
    io.status(`rendering ${displayName(name)}`);
    const width = outputWidth(p.options.has('width') ? intOption(p, 'width', 0) : undefined, io);
    const groups = [describeContainer(info).split(', ')];
    if (all) groups.push([`${values.length} pickle${values.length === 1 ? '' : 's'}`]);
    groups.push(countsText(countValues(values)).split(', '));
    let registry;
    if (TORCH_FORMATS.has(info.format)) {
      // Tensor files: totals on the first line, and heads that name tied and shared storages.
      const base = defaultShowRegistry();
      const { index, totals } = torchIndex(values, base);
      registry = registerTorch(base, index);
      const parts = torchTotalsText(totals);
      if (parts.length > 0) groups.push(parts);
    }
    const shown = displayName(name);
    const out = summaryLines(shown, groups, width).map((l, i) =>
      i === 0 ? io.style.bold(shown) + l.slice(shown.length) : l,
    );
    const treeOptions = {
      depth: intOption(p, 'depth', 8),
      items: intOption(p, 'items', 20),
      lossless: true,
      width,
      ...(registry !== undefined ? { registry } : {}),
    };
    const textOptions = { width, paint: io.style.paint };
    values.forEach((value, i) => {
      if (all) out.push(io.style.note(`--- pickle ${i + 1} of ${values.length} ---`));
      out.push(...renderShowText(buildShowTree(value, treeOptions), textOptions));
    });
    io.out(out.join('\n') + '\n');
    return 0;
  },
};
