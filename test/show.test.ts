/**
 * The show core (src/tools/show): the tree model a viewer renders, the registry new value kinds plug
 * into, and the promise that the core runs without Node (the web viewer imports it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loads } from '../src/load.js';
import { DataFrame, NDArray } from '../src/index.js';
import {
  buildShowTree,
  countValues,
  countsText,
  defaultShowRegistry,
  renderShowText,
  seg,
  type ShowNode,
  type ShowRenderer,
} from '../src/tools/show/index.js';

const data = loads(new Uint8Array(fs.readFileSync('examples/data.pkl')), { lossless: true }) as Map<
  string,
  unknown
>;

function child(n: ShowNode, label: string): ShowNode {
  const c = n.children.find((x) => x.label === label);
  if (!c) throw new Error(`no child ${label} under ${n.label}`);
  return c;
}

describe('the tree model', () => {
  it('labels, types, summaries and array facts of examples/data.pkl', () => {
    const root = buildShowTree(data, { lossless: true });
    expect(root.type).toBe('dict');
    expect(root.summary).toBe('(6 items)');
    expect(root.children.map((c) => c.label)).toEqual([...data.keys()].map((k) => `'${k}'`));
    expect(child(root, "'name'")).toMatchObject({ type: 'str', summary: "'weather'", children: [] });
    const readings = data.get('readings') as NDArray;
    const a = child(root, "'readings'");
    expect(a.type).toBe('numpy.ndarray');
    expect(a.array).toEqual({
      className: 'ndarray',
      dtype: 'float32',
      shape: readings.shape,
      nbytes: readings.nbytes,
      summary: a.summary,
      masked: false,
    });
    const flat = readings.toArray() as number[];
    expect(a.summary).toBe(
      `[${[0, 1, 2]
        .map(
          (r) =>
            `[${flat
              .slice(4 * r, 4 * r + 4)
              .map((x) => x.toFixed(1))
              .join(', ')}]`,
        )
        .join(', ')}]`,
    );
    const frame = child(root, "'frame'");
    const df = data.get('frame') as DataFrame;
    expect(frame.type).toBe('pandas DataFrame');
    expect(frame.summary).toBe(`(${df.index.length} rows × ${df.columns.length} columns)`);
    expect(frame.lines.length).toBe(2 + 1 + df.index.length);
    expect(child(root, "'flags'").children.map((c) => [c.label, c.summary])).toEqual(
      [...(data.get('flags') as Map<bigint, boolean>)].map(([k, v]) => [String(k), v ? 'True' : 'False']),
    );
  });

  it('a second path to an object is a reference node to the first, which gets an anchor', () => {
    const shared = [1n, 2n];
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const root = buildShowTree([shared, shared, cyclic], { lossless: true });
    const [first, second, cyc] = root.children as [ShowNode, ShowNode, ShowNode];
    expect(first.anchor).toBe(1);
    expect(second.ref).toEqual({ target: first, cycle: false });
    expect(cyc.children[0]?.ref).toEqual({ target: cyc, cycle: true });
    expect(renderShowText(root)).toEqual([
      'list (3 items)',
      '  [0]: list (2 items) &1',
      '    [0]: 1',
      '    [1]: 2',
      '  [1]: *1 (same object as above)',
      '  [2]: list (1 item) &2',
      '    [0]: *2 (cycle: contains itself)',
    ]);
  });

  it('the text renderer paints by role and cuts to the width, keeping anchors', () => {
    const root = buildShowTree(data, { lossless: true, width: 40 });
    const lines = renderShowText(root, { width: 40, paint: (role, t) => `<${role}>${t}</${role}>` });
    expect(lines[0]).toBe('<type>dict</type> <note>(6 items)</note>');
    expect(lines).toContain("  <key>'name'</key>: <str>'weather'</str>");
    const plain = renderShowText(root, { width: 40 });
    for (const line of plain) expect([...line].length).toBeLessThanOrEqual(40);
  });
});

class Tensor {
  constructor(
    readonly dtype: string,
    readonly shape: number[],
  ) {}
}
class QuantizedTensor extends Tensor {}

describe('the registry', () => {
  const tensorRenderer: ShowRenderer<Tensor> = {
    expand: (t) => ({
      type: 'torch.Tensor',
      summary: `${t.dtype} (${t.shape.join(', ')})`,
      head: [seg('tensor', 'type'), seg(` ${t.dtype} (${t.shape.join(', ')})`)],
      expandable: false,
    }),
    tally: () => ({ kind: 'array' }),
  };

  it('new value kinds plug in by class; subclasses inherit; the default registry is not changed', () => {
    const registry = defaultShowRegistry().register(Tensor, tensorRenderer);
    const value = new Map<string, unknown>([
      ['w', new Tensor('float32', [2, 3])],
      ['q', new QuantizedTensor('qint8', [4])],
    ]);
    const root = buildShowTree(value, { registry });
    expect(renderShowText(root)).toEqual([
      'dict (2 items)',
      "  'w': tensor float32 (2, 3)",
      "  'q': tensor qint8 (4)",
    ]);
    expect(countsText(countValues([value], registry))).toBe('2 arrays, 1 container');
    // Without the registration the class is unknown: shown by its JS class name.
    expect(buildShowTree(value).children[0]?.type).toBe('Tensor');
  });
});

describe('no Node built-ins in the show core (a browser viewer imports it)', () => {
  it('nothing reachable from src/tools/show/index.ts imports node:* or uses Buffer or process', () => {
    const seen = new Set<string>();
    const stack = [path.resolve('src/tools/show/index.ts')];
    const problems: string[] = [];
    while (stack.length > 0) {
      const f = stack.pop() as string;
      if (seen.has(f)) continue;
      seen.add(f);
      const text = fs.readFileSync(f, 'utf8');
      if (/\bBuffer\.|\bprocess\./.test(text)) problems.push(`${f}: Buffer or process`);
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] as string;
        if (!spec.startsWith('.')) problems.push(`${f}: imports ${spec}`);
        else stack.push(path.resolve(path.dirname(f), spec.replace(/\.js$/, '.ts')));
      }
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
