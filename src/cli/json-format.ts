/**
 * Re-indent JSON text without parsing values: numbers, strings and escapes are copied byte for byte,
 * so big integers and float spellings survive exactly. Empty `{}` / `[]` stay on one line.
 */
export function reindentJson(text: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  let depth = 0;
  let i = 0;
  const n = text.length;
  const newline = (): void => {
    out.push('\n' + pad.repeat(depth));
  };
  while (i < n) {
    const ch = text[i] as string;
    if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '{' || ch === '[') {
      // Look ahead for an empty container.
      let j = i + 1;
      while (j < n && /\s/.test(text[j] as string)) j++;
      const close = ch === '{' ? '}' : ']';
      if (text[j] === close) {
        out.push(ch + close);
        i = j + 1;
        continue;
      }
      out.push(ch);
      depth++;
      newline();
      i++;
      continue;
    }
    if (ch === '}' || ch === ']') {
      depth--;
      newline();
      out.push(ch);
      i++;
      continue;
    }
    if (ch === ',') {
      out.push(',');
      newline();
      i++;
      continue;
    }
    if (ch === ':') {
      out.push(': ');
      i++;
      continue;
    }
    // A literal: number, true, false, null.
    let j = i;
    while (j < n && !/[\s,:{}[\]"]/.test(text[j] as string)) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out.join('');
}
