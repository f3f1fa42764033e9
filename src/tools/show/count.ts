/** Counting what a value holds, for the summary line of `picklejar show`. */
import { defaultShowRegistry, type ShowRegistry } from './registry.js';

export interface ShowCounts {
  /** Foreign objects (instances of classes picklejar keeps inert). */
  objects: number;
  /** Their distinct classes. */
  classes: Set<string>;
  arrays: number;
  /** Bytes of array data (object arrays excluded). */
  arrayBytes: number;
  /** DataFrames and Series. */
  frames: number;
  /** Lists, tuples, dicts and sets. */
  containers: number;
}

let registry: ShowRegistry | undefined;

/**
 * Walk everything reachable from the roots once (visited set, explicit stack) and count what is there.
 * @example
 * countsText(countValues(value)); // '3 objects of 3 classes, 7 arrays, 3 containers'
 */
export function countValues(roots: readonly unknown[], reg?: ShowRegistry): ShowCounts {
  const r = reg ?? (registry ??= defaultShowRegistry());
  const c: ShowCounts = {
    objects: 0,
    classes: new Set(),
    arrays: 0,
    arrayBytes: 0,
    frames: 0,
    containers: 0,
  };
  const visited = new Set<object>();
  const stack: unknown[] = [...roots].reverse();
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || visited.has(v)) continue;
    visited.add(v);
    const renderer = r.lookup(v);
    const t = renderer.tally?.(v);
    if (t !== undefined) {
      if (t.kind === 'object') {
        c.objects++;
        if (t.className !== undefined) c.classes.add(t.className);
      } else if (t.kind === 'array') {
        c.arrays++;
        c.arrayBytes += t.bytes ?? 0;
      } else if (t.kind === 'frame') c.frames++;
      else if (t.kind === 'container') c.containers++;
    }
    if (renderer.members)
      for (const x of renderer.members(v))
        if (x !== null && typeof x === 'object' && !visited.has(x)) stack.push(x);
  }
  return c;
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * `3 objects of 3 classes, 7 arrays, 3 containers`.
 * @example
 * countsText(countValues([value]));
 */
export function countsText(c: ShowCounts): string {
  const parts: string[] = [];
  if (c.objects > 0)
    parts.push(`${plural(c.objects, 'object')} of ${plural(c.classes.size, 'class', 'classes')}`);
  if (c.arrays > 0) parts.push(plural(c.arrays, 'array'));
  if (c.frames > 0) parts.push(plural(c.frames, 'DataFrame/Series', 'DataFrames/Series'));
  if (c.containers > 0 || parts.length === 0) parts.push(plural(c.containers, 'container'));
  return parts.join(', ');
}
