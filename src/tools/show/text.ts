/** The show tree as text lines: two spaces per level, `label: head`, cut to a width. */
import { visibleLength } from './format.js';
import { seg, type Role, type Segment, type ShowNode } from './model.js';

export interface ShowTextOptions {
  /** Colours or other decoration per role (default: none). */
  readonly paint?: (role: Role, text: string) => string;
  /**
   * Longest line, in characters; longer lines end in `…` (but keep at least half the width after
   * their indentation). Default: no limit.
   */
  readonly width?: number;
}

const INDENT = '  ';

/** Keep the first `width - 1` visible characters of `segments` and end them with `…`. */
function fit(segments: readonly Segment[], width: number): readonly Segment[] {
  let total = 0;
  for (const s of segments) total += visibleLength(s.text);
  if (total <= width) return segments;
  const out: Segment[] = [];
  let room = Math.max(1, width - 1);
  for (const s of segments) {
    if (room <= 0) break;
    const chars = [...s.text];
    if (chars.length <= room) {
      out.push(s);
      room -= chars.length;
    } else {
      out.push(seg(chars.slice(0, room).join(''), s.role));
      room = 0;
    }
  }
  out.push(seg('…', 'note'));
  return out;
}

type Item =
  | { readonly node: ShowNode; readonly depth: number }
  | { readonly line: readonly Segment[]; readonly depth: number };

/**
 * The lines `picklejar show` prints for a tree (no trailing newlines).
 * @example
 * renderShowText(buildShowTree(value, { width: 100 }), { width: 100 }).join('\n');
 */
export function renderShowText(root: ShowNode, options: ShowTextOptions = {}): string[] {
  const paint = options.paint ?? ((_r: Role, t: string) => t);
  const width = options.width ?? Infinity;
  const out: string[] = [];
  /** One line; `suffix` (anchors, cut markers) is kept whole when the line is cut. */
  const emit = (depth: number, segments: readonly Segment[], suffix: readonly Segment[] = []): void => {
    const indent = INDENT.repeat(depth);
    let room = width - indent.length;
    for (const s of suffix) room -= visibleLength(s.text);
    // A line keeps half the width after its indentation however deep it is: a tree deeper than the
    // width allows gets lines longer than the width rather than lines cut to nothing.
    const fitted = [...fit(segments, Math.max(Math.floor(width / 2), room)), ...suffix];
    out.push(indent + fitted.map((s) => (s.role === 'plain' ? s.text : paint(s.role, s.text))).join(''));
  };
  const stack: Item[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as Item;
    if ('line' in item) {
      emit(item.depth, item.line);
      continue;
    }
    const { node, depth } = item;
    const segments: Segment[] = [];
    if (node.label === '-') segments.push(seg('- '));
    else if (node.label !== '') segments.push(seg(node.label, 'key'), seg(': '));
    segments.push(...node.head);
    const suffix: Segment[] = [];
    if (node.anchor !== undefined) suffix.push(seg(' '), seg(`&${node.anchor}`, 'note'));
    if (node.cut) suffix.push(seg(' '), seg('[…]', 'note'));
    emit(depth, segments, suffix);
    if (node.more !== undefined) stack.push({ line: [seg(node.more, 'note')], depth: depth + 1 });
    for (let i = node.children.length - 1; i >= 0; i--)
      stack.push({ node: node.children[i] as ShowNode, depth: depth + 1 });
    for (let i = node.lines.length - 1; i >= 0; i--)
      stack.push({ line: node.lines[i] as readonly Segment[], depth: depth + 1 });
  }
  return out;
}
