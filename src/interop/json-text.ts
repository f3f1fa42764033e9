/**
 * JSON text as Python's `json` module reads and writes it. `JSON.parse` does not fit jsonpickle:
 * it cannot tell `1` (int) from `1.0` (float), loses digits of big ints, rejects `NaN`/`Infinity`,
 * and reorders integer-like object keys (key order decides jsonpickle's `py/id` numbering). This
 * parser keeps all of that, and it is iterative, so deep nesting cannot overflow the JS stack.
 */

import { reprFloat } from '../tools/pyrepr.js';

/** A JSON integer literal (Python `int`), kept as its text so no digit is lost. */
export class JInt {
  constructor(readonly text: string) {}
}

/** A JSON number with a fraction or exponent, or NaN/Infinity (Python `float`). */
export class JFloat {
  constructor(readonly value: number) {}
}

/** A JSON object with its keys in document order (a repeated key keeps its first place, last value, as in Python). */
export class JObject {
  readonly keys: string[] = [];
  readonly values: JNode[] = [];
  /** Key → position, built once the object is large enough for linear scans to matter. */
  private index: Map<string, number> | undefined;

  private find(key: string): number {
    if (this.index !== undefined) return this.index.get(key) ?? -1;
    if (this.keys.length > 16) {
      this.index = new Map();
      for (let i = 0; i < this.keys.length; i++)
        if (!this.index.has(this.keys[i] as string)) this.index.set(this.keys[i] as string, i);
      return this.index.get(key) ?? -1;
    }
    return this.keys.indexOf(key);
  }

  /** Set `key` (a repeated key keeps its first position and takes the new value). */
  set(key: string, value: JNode): void {
    const i = this.find(key);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    this.keys.push(key);
    this.values.push(value);
    this.index?.set(key, this.keys.length - 1);
  }

  get(key: string): JNode | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }
}

export type JNode = null | boolean | string | JInt | JFloat | JNode[] | JObject;

/** Thrown for text that Python's `json.loads` rejects; `offset` is the character index. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at character ${offset})`);
  }
}

/** Python 3.11's default `sys.get_int_max_str_digits()`; longer int literals are refused as Python does. */
const MAX_INT_DIGITS = 4300;

const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

interface Open {
  node: JNode[] | JObject;
  /** For objects: the key whose value is being parsed. */
  key: string | undefined;
}

/** Parse JSON text with Python `json.loads` semantics (NaN/Infinity accepted, strict strings). */
export function parseJson(text: string): JNode {
  let pos = 0;
  const len = text.length;
  const stack: Open[] = [];

  const fail = (msg: string, at = pos): never => {
    throw new JsonSyntaxError(msg, at);
  };
  const skipWs = (): void => {
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c < 128 && WS[c] === 1) pos++;
      else break;
    }
  };
  const parseString = (): string => {
    // pos is at the opening quote
    const start = ++pos;
    // Fast path: no escapes.
    let i = start;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      i++;
    }
    if (i < len && text.charCodeAt(i) === 0x22) {
      pos = i + 1;
      return text.slice(start, i);
    }
    let out = text.slice(start, i);
    pos = i;
    while (true) {
      if (pos >= len) fail('Unterminated string starting', start - 1);
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return out;
      }
      if (c < 0x20) fail('Invalid control character');
      if (c !== 0x5c) {
        let j = pos + 1;
        while (j < len) {
          const d = text.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          j++;
        }
        out += text.slice(pos, j);
        pos = j;
        continue;
      }
      const e = text.charCodeAt(pos + 1);
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape', pos);
          // Each escape is one UTF-16 unit; a lone surrogate stays lone (Python keeps it too).
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
          continue;
        }
        default:
          fail('Invalid \\escape', pos);
      }
      pos += 2;
    }
  };
  const NUM_RE = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
  const parseScalar = (): JNode => {
    const c = text.charCodeAt(pos);
    if (c === 0x22) return parseString();
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('NaN', pos)) {
      pos += 3;
      return new JFloat(NaN);
    }
    if (text.startsWith('Infinity', pos)) {
      pos += 8;
      return new JFloat(Infinity);
    }
    if (text.startsWith('-Infinity', pos)) {
      pos += 9;
      return new JFloat(-Infinity);
    }
    NUM_RE.lastIndex = pos;
    const m = NUM_RE.exec(text);
    if (!m) return fail('Expecting value');
    const start = pos;
    pos += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const digits = m[0].startsWith('-') ? m[0].length - 1 : m[0].length;
      if (digits > MAX_INT_DIGITS) {
        fail(`integer literal of ${digits} digits exceeds the limit of ${MAX_INT_DIGITS}`, start);
      }
      return new JInt(m[0]);
    }
    return new JFloat(Number(m[0]));
  };

  let root: JNode = null;
  let haveRoot = false;
  /** Attach a finished value to the innermost open container (or make it the root). */
  const attach = (v: JNode): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = v;
      haveRoot = true;
      return;
    }
    if (Array.isArray(top.node)) top.node.push(v);
    else {
      top.node.set(top.key as string, v);
      top.key = undefined;
    }
  };

  // Each iteration reads one value start, or closes containers.
  skipWs();
  while (true) {
    // Read a value.
    skipWs();
    if (pos >= len) fail('Expecting value');
    const c = text.charCodeAt(pos);
    if (c === 0x5b) {
      pos++;
      const arr: JNode[] = [];
      skipWs();
      if (text.charCodeAt(pos) === 0x5d) {
        pos++;
        attach(arr);
      } else {
        stack.push({ node: arr, key: undefined });
        continue;
      }
    } else if (c === 0x7b) {
      pos++;
      const obj = new JObject();
      skipWs();
      if (text.charCodeAt(pos) === 0x7d) {
        pos++;
        attach(obj);
      } else {
        if (text.charCodeAt(pos) !== 0x22) fail('Expecting property name enclosed in double quotes');
        const key = parseString();
        skipWs();
        if (text.charCodeAt(pos) !== 0x3a) fail("Expecting ':' delimiter");
        pos++;
        stack.push({ node: obj, key });
        continue;
      }
    } else {
      attach(parseScalar());
    }
    // After a value: separators and closers.
    while (true) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        skipWs();
        if (pos !== len) fail('Extra data');
        if (!haveRoot) fail('Expecting value');
        return root;
      }
      skipWs();
      const d = text.charCodeAt(pos);
      if (Array.isArray(top.node)) {
        if (d === 0x2c) {
          pos++;
          break; // next element
        }
        if (d === 0x5d) {
          pos++;
          stack.pop();
          attach(top.node);
          continue;
        }
        fail("Expecting ',' delimiter");
      } else {
        if (d === 0x2c) {
          pos++;
          skipWs();
          if (text.charCodeAt(pos) !== 0x22) fail('Expecting property name enclosed in double quotes');
          top.key = parseString();
          skipWs();
          if (text.charCodeAt(pos) !== 0x3a) fail("Expecting ':' delimiter");
          pos++;
          break; // next member value
        }
        if (d === 0x7d) {
          pos++;
          stack.pop();
          attach(top.node);
          continue;
        }
        fail("Expecting ',' delimiter");
      }
    }
  }
}

const ESC: string[] = [];
for (let i = 0; i < 0x20; i++) ESC[i] = '\\u' + i.toString(16).padStart(4, '0');
ESC[0x08] = '\\b';
ESC[0x09] = '\\t';
ESC[0x0a] = '\\n';
ESC[0x0c] = '\\f';
ESC[0x0d] = '\\r';

/**
 * A JSON string literal as Python's `json.dumps` writes it with its default `ensure_ascii=True`:
 * pure ASCII, every other UTF-16 unit (lone surrogates included) as `\uXXXX`.
 */
export function quoteAscii(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    from = i + 1;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += ESC[c] as string;
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + s.slice(from) + '"';
}

/**
 * A JS number as the text Python's `json.dumps(float)` gives (`float.__repr__`): always marked as
 * a float (`1.0`, `1e+16`), and `NaN`/`Infinity`/`-Infinity` for the non-finite values.
 * @example
 * pyFloatText(1e16); // '1e+16'
 */
export function pyFloatText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return reprFloat(x);
}
