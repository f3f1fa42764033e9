/**
 * The house rules that a reviewer would otherwise check by hand: no runtime import cycle between the
 * modules of src/ (a cycle makes load order matter and rooms inseparable), and the core (src/core.ts
 * and everything it imports at runtime, with package.json's `browser` replacements applied as bundlers
 * apply them) uses no Node built-in, so it bundles for the browser.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Runtime imports of a module: `import … from` and `export … from`, minus `import type` / `export type`. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms;
  for (const m of text.matchAll(re)) if (!m[1]) out.push(m[2] as string);
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1] as string);
  // dynamic imports load on demand: they are not part of a module's load order.
  return out;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
}

/** package.json's `browser` map (dist paths) as source paths: a `.node.ts` module → its `.browser.ts` twin. */
const pkg = JSON.parse(readFileSync(resolve(SRC, '..', 'package.json'), 'utf8')) as {
  browser: Record<string, string>;
};
const distToSrc = (p: string) => resolve(SRC, '..', p.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
const BROWSER_SWAP = new Map(
  Object.entries(pkg.browser).map(([from, to]) => [distToSrc(from), distToSrc(to)]),
);

const files = sourceFiles(SRC);
const graph = new Map(
  files.map((f) => [
    f,
    runtimeImports(f)
      .map((s) => resolveLocal(f, s))
      .filter((x): x is string => x !== undefined),
  ]),
);

describe('the house', () => {
  it('src/ has no runtime import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' > '));
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles).toEqual([]);
  });

  it('the core (src/core.ts and its runtime imports) uses no Node built-in', () => {
    const seen = new Set<string>();
    const nodeUses: string[] = [];
    const walk = (module: string): void => {
      const f = BROWSER_SWAP.get(module) ?? module;
      if (seen.has(f)) return;
      seen.add(f);
      for (const spec of runtimeImports(f)) {
        if (spec.startsWith('node:')) nodeUses.push(`${relative(SRC, f)} imports ${spec}`);
        const g = resolveLocal(f, spec);
        if (g) walk(g);
      }
    };
    walk(join(SRC, 'core.ts'));
    expect(seen.size).toBeGreaterThan(50);
    expect(BROWSER_SWAP.size).toBeGreaterThan(3);
    for (const twin of BROWSER_SWAP.values()) expect(files).toContain(twin);
    expect(nodeUses).toEqual([]);
  });
});
