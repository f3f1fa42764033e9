// Find the Python that has numpy/joblib/sklearn: env PYTHON, then /usr/bin/python3, then python3 on PATH.
import { spawnSync } from 'node:child_process';

const PROBE =
  'import sys, numpy, joblib, sklearn; print(sys.version.split()[0], numpy.__version__, joblib.__version__, sklearn.__version__)';

export function findPython() {
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const tried = [];
  for (const path of candidates) {
    const r = spawnSync(path, ['-c', PROBE], { encoding: 'utf8' });
    if (r.status === 0) {
      const [version, numpy, joblib, sklearn] = r.stdout.trim().split(' ');
      return { path, version, numpy, joblib, sklearn };
    }
    tried.push(`${path}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  }
  throw new Error(
    `no Python with numpy, joblib and scikit-learn found (set PYTHON):\n  ${tried.join('\n  ')}`,
  );
}
