/** Terminal styling: ANSI colours when enabled, identity functions otherwise. */
import type { Role } from '../tools/show/model.js';

export interface Style {
  readonly enabled: boolean;
  /** Class and type names. */
  type(s: string): string;
  /** String values. */
  str(s: string): string;
  /** Numbers, booleans, None. */
  num(s: string): string;
  /** Keys and attribute names. */
  key(s: string): string;
  /** Notes: truncation, shared-reference markers, summaries. */
  note(s: string): string;
  /** Emphasis (headers). */
  bold(s: string): string;
  /** Warnings / dangerous findings. */
  bad(s: string): string;
  /** Benign findings. */
  good(s: string): string;
  /** Unknown-severity findings. */
  warn(s: string): string;
  /** The style of a show-tree role. */
  paint(role: Role, s: string): string;
}

const wrap =
  (open: string, close: string) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`;

const plain = (s: string): string => s;

export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    return {
      paint: (_role, s) => s,
      enabled,
      type: plain,
      str: plain,
      num: plain,
      key: plain,
      note: plain,
      bold: plain,
      bad: plain,
      good: plain,
      warn: plain,
    };
  }
  const roles: Record<Role, (s: string) => string> = {
    plain,
    type: wrap('36', '39'),
    str: wrap('32', '39'),
    num: wrap('33', '39'),
    key: plain,
    note: wrap('2', '22'),
    bad: wrap('1;31', '22;39'),
  };
  return {
    paint: (role, s) => roles[role](s),
    enabled,
    type: wrap('36', '39'),
    str: wrap('32', '39'),
    num: wrap('33', '39'),
    key: plain,
    note: wrap('2', '22'),
    bold: wrap('1', '22'),
    bad: wrap('1;31', '22;39'),
    good: wrap('32', '39'),
    warn: wrap('33', '39'),
  };
}

/**
 * Colour on when stdout is a terminal, unless NO_COLOR is set (any non-empty value) or --no-color
 * was given; --color forces it on.
 */
export function colorWanted(
  isTTY: boolean,
  env: NodeJS.ProcessEnv,
  forceOn: boolean,
  forceOff: boolean,
): boolean {
  if (forceOff) return false;
  if (forceOn) return true;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return isTTY;
}
