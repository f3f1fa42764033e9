#!/usr/bin/env node
// Run a Python script with the interpreter that has numpy (the fixture generators need it):
// $PYTHON, then /usr/bin/python3, then python3 on PATH. Usage: node scripts/run-python.mjs SCRIPT [ARGS...]
import { spawnSync } from 'node:child_process';
import process from 'node:process';

const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);

function hasNumpy(python) {
  const r = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
  return r.status === 0;
}

const python = candidates.find(hasNumpy);
if (!python) {
  process.stderr.write(
    `no Python with numpy found (tried: ${candidates.join(', ')}); set PYTHON=/path/to/python3\n`,
  );
  process.exit(2);
}
// Fixed hash seed: set iteration order of strings, hence pickle bytes, must not vary between runs.
const env = { ...process.env, PYTHONHASHSEED: '0' };
const r = spawnSync(python, process.argv.slice(2), { stdio: 'inherit', env });
if (r.error) {
  process.stderr.write(`${r.error.message}\n`);
  process.exit(2);
}
process.exit(r.status ?? 1);
