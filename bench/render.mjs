#!/usr/bin/env node
// Re-render bench/out/results.json as Markdown, e.g. with the other clock: node bench/render.mjs [wall|cpu]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReport } from './lib/report.mjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');
const saved = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
const clock =
  process.argv[2] === 'cpu' || process.argv[2] === 'wall' ? process.argv[2] : (saved.clock ?? 'wall');
console.log(renderReport({ ...saved, clock }));
