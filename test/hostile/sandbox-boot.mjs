// Worker entry of the hostile suite's Sandbox (test/helpers/hostile.ts): registers tsx so the
// scenario module (TypeScript) can be imported, then runs the functions the test asks for.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.module);

parentPort.on('message', async ({ id, fn, args }) => {
  try {
    if (typeof mod[fn] !== 'function') throw new Error(`no scenario ${fn}`);
    const result = await mod[fn](...args);
    parentPort.postMessage({ id, ok: true, result });
  } catch (e) {
    parentPort.postMessage({
      id,
      ok: false,
      error: { name: e?.constructor?.name ?? 'Error', message: String(e?.message ?? e), stack: e?.stack },
    });
  }
});
parentPort.postMessage({ ready: true });
