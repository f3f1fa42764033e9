/**
 * Building the show tree. The walk is iterative (an explicit task stack) and limited by depth and
 * items, so a million levels of nesting or a list of ten million items cost only what is shown.
 * Every object is expanded once: a second path to it becomes a reference node (`*N`) and the first
 * occurrence gets the matching anchor (`&N`), so shared DAGs such as 60 levels of `[x, x]` stay linear.
 */
import { visibleLength } from './format.js';
import { seg, type Expansion, type RenderContext, type ShowNode } from './model.js';
import { primitiveExpansion } from './python.js';
import { defaultShowRegistry, type ShowRegistry } from './registry.js';

export interface ShowTreeOptions {
  /** Levels below the root that are expanded (deeper nodes are cut: `[…]`). Default 8. */
  readonly depth?: number;
  /** Items shown per list/tuple/set/dict (object attributes: max(items, 100); table rows: min(items, 10)). Default 20. */
  readonly items?: number;
  /**
   * The value was decoded with `lossless: true`, so bigint is a Python int and every number a float
   * (`0.0` prints as `0.0`). Default false: integral numbers print as ints.
   */
  readonly lossless?: boolean;
  /** Characters per line the text view will have; previews and tables are fitted to it. Default: no limit. */
  readonly width?: number;
  /** Renderers by class (default: defaultShowRegistry()). */
  readonly registry?: ShowRegistry;
}

/** Narrowest budget a head is fitted to, however deep the node (the text view cuts what is left). */
const MIN_BUDGET = 24;

interface Task {
  readonly label: string;
  readonly value: unknown;
  readonly depth: number;
  readonly into: ShowNode[];
}

type Work = Task | { readonly leave: object };

function node(label: string, e: Expansion, cut = false): ShowNode {
  return {
    label,
    type: e.type,
    summary: e.summary,
    head: e.head,
    children: [],
    lines: cut ? [] : (e.lines ?? []),
    more: cut ? undefined : e.more,
    array: e.array,
    cut,
    anchor: undefined,
    ref: undefined,
  };
}

let defaultRegistry: ShowRegistry | undefined;

/**
 * The show tree of `value`: what `picklejar show` prints, as nodes a text or HTML renderer can walk.
 * @example
 * const root = buildShowTree(loads(bytes, { lossless: true }), { lossless: true, depth: 2 });
 * root.type; // 'dict'
 * root.children.map((c) => c.label); // ["'name'", "'created'", …]
 */
export function buildShowTree(value: unknown, options: ShowTreeOptions = {}): ShowNode {
  const maxDepth = options.depth ?? 8;
  const items = options.items ?? 20;
  const lossless = options.lossless ?? false;
  const width = options.width ?? Infinity;
  const registry = options.registry ?? (defaultRegistry ??= defaultShowRegistry());
  const seen = new Map<object, ShowNode>();
  const onPath = new Set<object>();
  let anchors = 0;
  const roots: ShowNode[] = [];
  const stack: Work[] = [{ label: '', value, depth: 0, into: roots }];

  while (stack.length > 0) {
    const w = stack.pop() as Work;
    if ('leave' in w) {
      onPath.delete(w.leave);
      continue;
    }
    const { label, value: v, depth, into } = w;
    const labelWidth = label === '' ? 0 : label === '-' ? 2 : visibleLength(label) + 2;
    const ctx: RenderContext = {
      items,
      lossless,
      budget: Math.max(MIN_BUDGET, width - 2 * depth - labelWidth),
      lineBudget: Math.max(MIN_BUDGET, width - 2 * (depth + 1)),
    };
    if (v === null || typeof v !== 'object') {
      into.push(node(label, primitiveExpansion(v, ctx)));
      continue;
    }
    const renderer = registry.lookup(v);
    const atom = renderer.atom?.(v) ?? false;
    if (!atom) {
      const prev = seen.get(v);
      if (prev !== undefined) {
        prev.anchor ??= ++anchors;
        const cycle = onPath.has(v);
        const text = `*${prev.anchor} (${cycle ? 'cycle: contains itself' : 'same object as above'})`;
        into.push({
          ...node(label, {
            type: prev.type,
            summary: `*${prev.anchor}`,
            head: [seg(text, 'note')],
            expandable: false,
          }),
          ref: { target: prev, cycle },
        });
        continue;
      }
    }
    let e: Expansion;
    try {
      e = renderer.expand(v, ctx);
    } catch (err) {
      const text = `<cannot show: ${(err as Error).message}>`;
      into.push(node(label, { type: '?', summary: text, head: [seg(text, 'bad')], expandable: false }));
      continue;
    }
    const cut = depth >= maxDepth && e.expandable;
    const n = node(label, e, cut);
    into.push(n);
    if (atom) continue;
    seen.set(v, n);
    if (cut) continue;
    const children = e.children ?? [];
    if (children.length === 0) continue;
    onPath.add(v);
    stack.push({ leave: v });
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i] as { label: string; value: unknown };
      stack.push({ label: c.label, value: c.value, depth: depth + 1, into: n.children });
    }
  }
  return roots[0] as ShowNode;
}
