/**
 * A reader for the small Python literals numpy prints for structured dtypes (`str(dtype)`), which
 * jsonpickle stores and reads back with `ast.literal_eval`: lists, tuples, dicts, strings, ints,
 * floats, True/False/None. Tuples become `Tuple`, lists arrays, dicts Maps, ints numbers.
 */
import { Tuple } from '../python/values.js';

const MAX_DEPTH = 64;

class LiteralSyntaxError extends Error {}

export function parsePyLiteral(text: string): unknown {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new LiteralSyntaxError(`${msg} at character ${pos} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const ws = (): void => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const str = (): string => {
    const q = text[pos] as string;
    pos++;
    let out = '';
    while (true) {
      if (pos >= text.length) fail('unterminated string');
      const c = text[pos] as string;
      if (c === q) {
        pos++;
        return out;
      }
      if (c !== '\\') {
        out += c;
        pos++;
        continue;
      }
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '\\':
          out += '\\';
          break;
        case "'":
          out += "'";
          break;
        case '"':
          out += '"';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '0':
          out += '\0';
          break;
        case 'x': {
          const h = text.slice(pos, pos + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('bad \\x escape');
          out += String.fromCharCode(parseInt(h, 16));
          pos += 2;
          break;
        }
        case 'u': {
          const h = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          pos += 4;
          break;
        }
        default:
          fail('unsupported escape');
      }
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('literal nested too deeply');
    ws();
    const c = text[pos];
    if (c === "'" || c === '"') return str();
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      pos++;
      const items: unknown[] = [];
      let trailingComma = false;
      ws();
      while (text[pos] !== close) {
        items.push(value(depth + 1));
        ws();
        trailingComma = false;
        if (text[pos] === ',') {
          pos++;
          trailingComma = true;
          ws();
        } else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
      }
      pos++;
      if (c === '(' && items.length === 1 && !trailingComma) return items[0]; // parenthesised value
      return c === '(' ? Tuple.from_(items) : items;
    }
    if (c === '{') {
      pos++;
      const map = new Map<unknown, unknown>();
      ws();
      while (text[pos] !== '}') {
        const k = value(depth + 1);
        ws();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        map.set(k, value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          ws();
        } else if (text[pos] !== '}') fail("expected ',' or '}'");
      }
      pos++;
      return map;
    }
    const m = /^(True|False|None|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)/.exec(text.slice(pos));
    if (!m) return fail('unexpected character');
    pos += (m[0] as string).length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0]);
  };
  const v = value(0);
  ws();
  if (pos !== text.length) fail('trailing characters');
  return v;
}

/** Python `repr` of the literals above (strings single-quoted), for writing dtype text. */
export function pyLiteralText(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    let out = "'";
    for (const ch of v) {
      const c = ch.codePointAt(0) as number;
      if (ch === "'" || ch === '\\') out += '\\' + ch;
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
      else out += ch;
    }
    return out + "'";
  }
  if (v instanceof Tuple) {
    const items = v.map(pyLiteralText);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (Array.isArray(v)) return `[${v.map(pyLiteralText).join(', ')}]`;
  if (v instanceof Map)
    return `{${[...v].map(([k, x]) => `${pyLiteralText(k)}: ${pyLiteralText(x)}`).join(', ')}}`;
  throw new TypeError('not a literal');
}
