/**
 * The show tree as HTML: the same ShowNode tree `picklejar show` prints as text (src/tools/show),
 * walked here into collapsible <details> elements. No formatting of values happens here: every text
 * comes from the nodes (labels, head segments with their roles, table lines, "… N more").
 */
import type { Segment, ShowNode } from '../../src/tools/show/index.js';

/** Levels opened when the tree is first shown; deeper nodes open on click. */
const OPEN_LEVELS = 4;

function segments(doc: Document, into: HTMLElement, segs: readonly Segment[]): void {
  for (const s of segs) {
    if (s.role === 'plain') into.append(s.text);
    else {
      const span = doc.createElement('span');
      span.className = `r-${s.role}`;
      span.textContent = s.text;
      into.append(span);
    }
  }
}

/** The node's own line: `label: head` plus its anchor (&N), reference link (*N) and cut marker. */
function headLine(doc: Document, node: ShowNode): HTMLElement {
  const line = doc.createElement('span');
  line.className = 'line';
  if (node.label === '-') line.append('- ');
  else if (node.label !== '') {
    const key = doc.createElement('span');
    key.className = 'r-key';
    key.textContent = node.label;
    line.append(key, ': ');
  }
  if (node.ref && node.ref.target.anchor !== undefined) {
    const a = doc.createElement('a');
    a.href = `#pj-anchor-${node.ref.target.anchor}`;
    a.title = node.ref.cycle
      ? 'refers back to a container it is inside of'
      : 'the same object as shown above';
    segments(doc, a, node.head);
    line.append(a);
  } else segments(doc, line, node.head);
  if (node.anchor !== undefined) {
    const tag = doc.createElement('span');
    tag.className = 'r-note anchor';
    tag.id = `pj-anchor-${node.anchor}`;
    tag.textContent = ` &${node.anchor}`;
    line.append(tag);
  }
  if (node.cut) {
    const cut = doc.createElement('span');
    cut.className = 'r-note';
    cut.textContent = ' […]';
    cut.title = 'deeper than the shown depth';
    line.append(cut);
  }
  return line;
}

function renderNode(doc: Document, node: ShowNode, level: number): HTMLElement {
  const line = headLine(doc, node);
  const hasBody = node.children.length > 0 || node.lines.length > 0 || node.more !== undefined;
  if (!hasBody) {
    const li = doc.createElement('li');
    li.className = 'leaf';
    li.append(line);
    return li;
  }
  const li = doc.createElement('li');
  const details = doc.createElement('details');
  details.open = level < OPEN_LEVELS;
  const summary = doc.createElement('summary');
  summary.append(line);
  details.append(summary);
  if (node.lines.length > 0) {
    const pre = doc.createElement('pre');
    pre.className = 'table';
    node.lines.forEach((l, i) => {
      if (i > 0) pre.append('\n');
      segments(doc, pre, l);
    });
    details.append(pre);
  }
  if (node.children.length > 0 || node.more !== undefined) {
    const ul = doc.createElement('ul');
    for (const c of node.children) ul.append(renderNode(doc, c, level + 1));
    if (node.more !== undefined) {
      const more = doc.createElement('li');
      more.className = 'leaf r-note';
      more.textContent = node.more;
      ul.append(more);
    }
    details.append(ul);
  }
  li.append(details);
  return li;
}

/**
 * A <ul> holding the whole tree, the root's children open to OPEN_LEVELS.
 * @example
 * container.append(renderShowTree(document, buildShowTree(value, { lossless: true })));
 */
export function renderShowTree(doc: Document, root: ShowNode): HTMLElement {
  const ul = doc.createElement('ul');
  ul.className = 'tree';
  ul.append(renderNode(doc, root, 0));
  return ul;
}
