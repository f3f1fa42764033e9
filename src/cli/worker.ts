/**
 * Worker-thread side of a long CLI job: runs the command while the main thread animates the
 * progress line; output goes to the main thread as it is produced (a long listing streams), stderr
 * lines and the exit status in the last message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeStyle } from './style.js';
import { execute, plan } from './run.js';

export interface WorkerInput {
  readonly argv: readonly string[];
  readonly stdin: Uint8Array | undefined;
  readonly stdoutIsTTY: boolean;
  readonly columns: number | undefined;
  readonly color: boolean;
  readonly debug: boolean;
}

export type WorkerMessage =
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'out'; readonly chunk: string | Uint8Array }
  | {
      readonly type: 'done';
      readonly code: number;
      readonly err: string[];
    };

async function work(input: WorkerInput): Promise<void> {
  const err: string[] = [];
  let code: number;
  const out = (chunk: string | Uint8Array): void =>
    parentPort?.postMessage({ type: 'out', chunk } satisfies WorkerMessage);
  const p = plan(input.argv);
  if (p.kind !== 'run') {
    out(p.text);
    code = 0;
  } else {
    code = await execute(p, {
      out,
      err: (line) => void err.push(line),
      status: (text) => parentPort?.postMessage({ type: 'status', text } satisfies WorkerMessage),
      stdin: async () => input.stdin ?? new Uint8Array(0),
      stdoutIsTTY: input.stdoutIsTTY,
      columns: input.columns,
      style: makeStyle(input.color),
      debug: input.debug,
    });
  }
  parentPort?.postMessage({ type: 'done', code, err } satisfies WorkerMessage);
}

if (parentPort) await work(workerData as WorkerInput);
