/**
 * The show tree: what `picklejar show` prints, as data. A decoded value becomes a tree of labelled
 * nodes (`buildShowTree`); the text renderer (`renderShowText`) turns it into terminal lines, and a
 * viewer can render the same nodes as HTML. Nothing here touches Node built-ins.
 */

/** How a piece of text reads, for colouring (terminal) or classes (HTML). */
export type Role = 'plain' | 'type' | 'str' | 'num' | 'key' | 'note' | 'bad';

/** A run of text with one role. */
export interface Segment {
  readonly text: string;
  readonly role: Role;
}

/** What the tree says about a numpy array (and array-like values such as tensors). */
export interface ArrayInfo {
  /** Class shown: `ndarray`, `numpy.matrix`, … */
  readonly className: string;
  /** dtype as numpy names it (`float64`, `<U5`, `structured (3 fields: a, b, c)`). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Bytes of element data (undefined for object arrays). */
  readonly nbytes: number | undefined;
  /** numpy-like preview of the elements, fitted to the width the node was built for. */
  readonly summary: string;
  readonly masked: boolean;
}

/** One node of the tree. */
export interface ShowNode {
  /**
   * How the parent names this node: '' for a root, `[0]` for sequence items, a key's repr (`'name'`)
   * for dict entries, the attribute name for object attributes, `-` for set members, `(state)`…
   */
  readonly label: string;
  /** Python type name: `str`, `float`, `list`, `sklearn.pipeline.Pipeline`, `numpy.ndarray`, … */
  readonly type: string;
  /** The one-line text without the type: a value's repr (`0.0`), `(2 items)`, an array preview. */
  readonly summary: string;
  /** The node's line as the text view prints it after `label: ` (type, value and notes, with roles). */
  readonly head: readonly Segment[];
  /** Child nodes (items, entries, attributes), in order; empty for atoms and cut nodes. */
  readonly children: ShowNode[];
  /** Text rows shown under the head before the children (tables of DataFrames and Series). */
  readonly lines: readonly (readonly Segment[])[];
  /** What was left out because of the item limit (`… 995 more`), if anything. */
  readonly more: string | undefined;
  /** Set for arrays. */
  readonly array: ArrayInfo | undefined;
  /** True when the depth limit stopped the expansion of a node that has content. */
  readonly cut: boolean;
  /** Anchor number when another node refers back to this one (`&1`). */
  anchor: number | undefined;
  /** Set for a second occurrence of an object already shown: the node it refers to. */
  readonly ref: { readonly target: ShowNode; readonly cycle: boolean } | undefined;
}

/** A child value to show under a node, with its label. */
export interface ShowChild {
  readonly label: string;
  readonly value: unknown;
}

/** How a renderer shows one value. */
export interface Expansion {
  readonly type: string;
  readonly summary: string;
  readonly head: readonly Segment[];
  readonly children?: readonly ShowChild[];
  readonly lines?: readonly (readonly Segment[])[];
  readonly more?: string;
  readonly array?: ArrayInfo;
  /**
   * True when the node has content that depth can cut (containers, objects, tables). Atoms
   * (scalars, empty containers, one-line arrays) are false.
   */
  readonly expandable: boolean;
}

/** What a renderer knows about where its output goes. */
export interface RenderContext {
  /** Items shown per container. */
  readonly items: number;
  /** The value was decoded with `lossless: true`: bigint is a Python int, every number a float. */
  readonly lossless: boolean;
  /** Characters available for the head (the text view's width minus indentation and label). */
  readonly budget: number;
  /** Characters available for each of `lines` (tables). */
  readonly lineBudget: number;
}

/** What counting (the summary line) learns from one value. */
export type Tally = 'object' | 'array' | 'frame' | 'container' | 'none';

/**
 * How one class of values is shown. Registered per class in a ShowRegistry; subclasses inherit their
 * parent's renderer unless they have their own.
 */
export interface ShowRenderer<T = never> {
  /** The node for `value`. */
  expand(value: T, ctx: RenderContext): Expansion;
  /**
   * True for atoms: shown in full wherever they occur, never marked `&N`/`*N` (dates, bytes, empty
   * containers). Default: the value is tracked by identity and shown once.
   */
  atom?(value: T): boolean;
  /** What the value counts as in the summary line, and its class name for objects. */
  tally?(value: T): { readonly kind: Tally; readonly className?: string; readonly bytes?: number };
  /** Values reachable from this one (for counting). */
  members?(value: T): Iterable<unknown>;
}

/** Segment helpers. */
export const seg = (text: string, role: Role = 'plain'): Segment => ({ text, role });
