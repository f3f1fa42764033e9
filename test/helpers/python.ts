/**
 * Finding and running the Python that has numpy (and the other ML packages): env PYTHON, then
 * /usr/bin/python3, then python3 on PATH. Live tests skip, with the reason in their name, when none is found.
 */
import { execa, execaSync } from 'execa';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/', import.meta.url));

let cached: { path: string | undefined } | undefined;

/** The first candidate that can `import numpy`, or undefined. Cached for the process. */
export function findPython(): string | undefined {
  if (cached) return cached.path;
  const candidates = [process.env['PYTHON'], '/usr/bin/python3', 'python3'].filter(
    (c): c is string => typeof c === 'string' && c.length > 0,
  );
  let found: string | undefined;
  for (const c of candidates) {
    try {
      const r = execaSync(c, ['-c', 'import numpy'], { reject: false, timeout: 30_000, stdin: 'ignore' });
      if (r.exitCode === 0) {
        found = c;
        break;
      }
    } catch {
      // not runnable: try the next one
    }
  }
  cached = { path: found };
  return found;
}

export interface PythonResult {
  stdout: string;
  stderr: string;
}

/**
 * Run `python -c code args...` with `input` on stdin; resolves with the whole stdout (execa buffers all
 * of it) or rejects with Python's stderr in the message. scripts/ is on PYTHONPATH, so the code can
 * `import gen_fixtures` (for `describe`) and `fixture_classes`.
 */
export async function runPython(
  code: string,
  args: readonly string[] = [],
  input?: string,
): Promise<PythonResult> {
  const python = findPython();
  if (python === undefined) throw new Error('no Python with numpy found (set PYTHON=/path/to/python3)');
  const env = {
    PYTHONPATH: [SCRIPTS_DIR, process.env['PYTHONPATH']].filter(Boolean).join(':'),
    PYTHONHASHSEED: '0',
    PYTHONIOENCODING: 'utf-8',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const r = await execa(python, ['-c', code, ...args], {
    env,
    input: input ?? '',
    reject: false,
    maxBuffer: 1024 * 1024 * 1024,
    stripFinalNewline: false,
  });
  if (r.exitCode !== 0) {
    throw new Error(`python exited with ${r.exitCode}:\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

export const PYTHON_SKIP_MESSAGE =
  'SKIPPED: no Python with numpy found (tried $PYTHON, /usr/bin/python3, python3); live tests need it';

/**
 * A vitest `describe` block that runs only when Python with numpy is available; otherwise the block is
 * reported as skipped with a name that says why.
 */
export function describeWithPython(name: string, body: (python: string) => void): void {
  const python = findPython();
  if (python === undefined) {
    describe.skip(`${name} — ${PYTHON_SKIP_MESSAGE}`, () => {
      body('');
    });
  } else {
    describe(name, () => body(python));
  }
}
