/**
 * The CLI's main thread: parse, read stdin if needed, and run the command — inline for small inputs,
 * or in a worker thread when a progress line is wanted (a terminal on stderr, or --progress) and the
 * input is large enough that decoding may take a while: decoding is synchronous, so only another
 * thread keeps the progress line moving.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { UsageError, usageMessage } from './args.js';
import type { Io } from './specs.js';
import { readStdin } from './read.js';
import { Spinner } from './progress.js';
import { anyFlag, execute, plan, type Plan } from './run.js';
import { colorWanted, makeStyle } from './style.js';
import type { WorkerInput, WorkerMessage } from './worker.js';
import { runWithHugePages, wantsHugePages } from './huge-pages.js';

/** Inputs at least this large run in a worker when progress is on (smaller ones decode in well under 1 s). */
const WORKER_THRESHOLD = 1 << 20;

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
}

let stdoutBroken = false;

function writeOut(chunk: string | Uint8Array): void {
  if (stdoutBroken) return;
  try {
    process.stdout.write(chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') stdoutBroken = true;
    else throw e;
  }
}

/** The terminal's width when stdout is one. */
function stdoutColumns(): number | undefined {
  return process.stdout.isTTY === true ? process.stdout.columns : undefined;
}

function writeErr(line: string): void {
  process.stderr.write(line + '\n');
}

/** Run the CLI with `argv` (without node and script); resolves with the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // A reader that goes away (`picklejar dis big.pkl | head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      stdoutBroken = true;
      return;
    }
    writeErr(`picklejar: cannot write to stdout: ${e.message}`);
    process.exit(1);
  });

  let p: Plan;
  try {
    p = plan(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeErr(usageMessage(e));
    return 2;
  }
  if (p.kind === 'text') {
    writeOut(p.text);
    return 0;
  }

  // Commands that read arrays into memory (not scan and dis, which step over them).
  if (
    p.command.name !== 'scan' &&
    p.command.name !== 'dis' &&
    wantsHugePages(p.command.inputs(p.parsed.operands), env)
  ) {
    const code = runWithHugePages(env);
    if (code >= 0) return code;
  }

  const debug = anyFlag(p, 'debug');
  const color = colorWanted(process.stdout.isTTY === true, env, anyFlag(p, 'color'), anyFlag(p, 'no-color'));
  const style = makeStyle(color);
  const forced = anyFlag(p, 'progress');
  const progress = !anyFlag(p, 'no-progress') && (forced || process.stderr.isTTY === true);
  const spinner = progress
    ? new Spinner(process.stderr, envNumber(env, 'PICKLEJAR_PROGRESS_DELAY_MS', 1000))
    : undefined;
  spinner?.start(
    `picklejar: ${p.command.name} ${p.command
      .inputs(p.parsed.operands)
      .map((n) => (n === '-' ? '<stdin>' : n))
      .join(' ')}`,
  );

  try {
    const inputs = p.command.inputs(p.parsed.operands);
    let stdinData: Uint8Array | undefined;
    const readStdinOnce = async (): Promise<Uint8Array> => {
      stdinData ??= await readStdin(process.stdin, (t) => spinner?.update(t));
      return stdinData;
    };
    let size = 0;
    for (const name of inputs) {
      if (name === '-') size += (await readStdinOnce()).length;
      else {
        try {
          size += statSync(name).size;
        } catch {
          // reported by the command itself
        }
      }
    }

    if (spinner && (forced || size >= envNumber(env, 'PICKLEJAR_WORKER_THRESHOLD', WORKER_THRESHOLD))) {
      return await inWorker(
        {
          argv,
          stdin: stdinData,
          stdoutIsTTY: process.stdout.isTTY === true,
          columns: stdoutColumns(),
          color,
          debug,
        },
        spinner,
      );
    }

    const io: Io = {
      out: (chunk) => {
        spinner?.stop();
        writeOut(chunk);
      },
      err: (line) => {
        spinner?.stop();
        writeErr(line);
      },
      status: (text) => spinner?.update(`picklejar: ${text}`),
      stdin: readStdinOnce,
      stdoutIsTTY: process.stdout.isTTY === true,
      columns: stdoutColumns(),
      style,
      debug,
    };
    return await execute(p, io);
  } catch (e) {
    spinner?.stop();
    const { errorReport } = await import('./report.js');
    const { code, message } = errorReport(e, debug);
    writeErr(message);
    return code;
  } finally {
    spinner?.stop();
  }
}

function inWorker(input: WorkerInput, spinner: Spinner): Promise<number> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input });
    let done = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'status') {
        spinner.update(`picklejar: ${m.text}`);
        return;
      }
      spinner.stop();
      if (m.type === 'out') {
        writeOut(m.chunk);
        return;
      }
      done = true;
      for (const line of m.err) writeErr(line);
      resolve(m.code);
    });
    worker.on('error', (e) => {
      if (done) return;
      done = true;
      spinner.stop();
      writeErr(`picklejar: ${e.message}${input.debug && e.stack ? '\n' + e.stack : ''}`);
      resolve(1);
    });
    worker.on('exit', (exitCode) => {
      if (done) return;
      done = true;
      spinner.stop();
      writeErr(`picklejar: the worker thread stopped unexpectedly (status ${exitCode})`);
      resolve(1);
    });
  });
}
