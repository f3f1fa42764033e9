/**
 * The harness of the hostile-input suite (test/hostile/*.test.ts).
 *
 * - `bytes(...)` builds pickles by hand: strings are taken as Latin-1 bytes, numbers as single bytes.
 * - `refuses(...)` / `decodes(...)` run one case in this process, time it, and check that it ended the
 *   expected way (an UnpicklingError naming the opcode and offset, or a value) and that the shared
 *   prototypes are exactly as before. Cases that run here are tiny inputs whose cost is linear in
 *   their size; anything that could be super-linear goes through `Sandbox`.
 * - `Sandbox` runs named functions of a scenario module in a worker thread with a 1 MiB stack (like
 *   the main thread's) and a heap cap, and terminates it on a deadline: a hang or an exponential
 *   blow-up becomes a failed test, never a stuck suite.
 * - `CaseLog` counts cases and remembers the slowest one per category; each file prints its table
 *   in `afterAll`.
 *
 * Time bounds are generous (seconds): they catch hangs and blow-ups, not slowness.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect } from 'vitest';
import { PickleError, UnpicklingError } from '../../src/errors.js';
import {
  protoChanges,
  protoQuick,
  protoSnapshot,
  quickDiffers,
  type ProtoSnapshot,
} from '../hostile/core.js';

// ---------------------------------------------------------------------------------------------
// Building bytes
// ---------------------------------------------------------------------------------------------

export type Part = string | number | readonly number[] | Uint8Array;

/** Concatenate parts: a string is Latin-1 (one byte per char < 256), a number one byte. */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0 || p > 255) throw new Error(`not a byte: ${p}`);
      out.push(p);
    } else if (typeof p === 'string') {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (c > 255) throw new Error(`not a Latin-1 string: ${JSON.stringify(p)}`);
        out.push(c);
      }
    } else {
      for (const b of p) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

export const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
export const u32 = (n: number): number[] => [
  n & 0xff,
  (n >>> 8) & 0xff,
  (n >>> 16) & 0xff,
  (n >>> 24) & 0xff,
];
export const i32 = (n: number): number[] => u32(n >>> 0);
export function u64(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}
/** SHORT_BINUNICODE of an ASCII/Latin-1 string (UTF-8 encoded). */
export function sbu(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 255) throw new Error('too long for SHORT_BINUNICODE');
  return [0x8c, b.length, ...b];
}
/** BINUNICODE of a string (UTF-8 encoded). */
export function bu(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [0x58, ...u32(b.length), ...b];
}

/** Short printable form of bytes for case names. */
export function show(data: Uint8Array, max = 48): string {
  let s = '';
  for (const b of data.subarray(0, max)) {
    s +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return data.length > max ? `${s}…(${data.length} bytes)` : s;
}

// Prototype integrity: the checks live in test/hostile/core.ts (workers import them without vitest).
export {
  protoSnapshot,
  protoChanges,
  protoQuick,
  type ProtoSnapshot,
  type ConsumerOutcome,
} from '../hostile/core.js';

/** Full prototype check around every test of the calling file (register at file top level). */
export function watchPrototypes(): void {
  let snap: ProtoSnapshot | undefined;
  beforeEach(() => {
    snap = protoSnapshot();
  });
  afterEach((ctx) => {
    if (snap) expectPrototypesUntouched(snap, ctx.task.name);
  });
}

export function expectPrototypesUntouched(before: ProtoSnapshot, context = ''): void {
  const changes = protoChanges(before);
  expect(changes, `prototypes changed${context ? ` by ${context}` : ''}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Case bookkeeping
// ---------------------------------------------------------------------------------------------

interface CategoryStats {
  cases: number;
  slowestMs: number;
  slowestName: string;
  totalMs: number;
}

/** Counts cases per category and keeps the slowest; `print()` writes the summary table. */
export class CaseLog {
  private readonly stats = new Map<string, CategoryStats>();

  constructor(private readonly file: string) {}

  record(category: string, name: string, ms: number): void {
    let s = this.stats.get(category);
    if (!s) {
      s = { cases: 0, slowestMs: -1, slowestName: '', totalMs: 0 };
      this.stats.set(category, s);
    }
    s.cases++;
    s.totalMs += ms;
    if (ms > s.slowestMs) {
      s.slowestMs = ms;
      s.slowestName = name;
    }
  }

  get(category: string): CategoryStats | undefined {
    return this.stats.get(category);
  }

  print(): void {
    const lines = [`hostile summary (${this.file}):`];
    for (const [cat, s] of this.stats) {
      lines.push(
        `  ${cat.padEnd(34)} cases ${String(s.cases).padStart(6)}   total ${fmt(s.totalMs).padStart(9)}   slowest ${fmt(s.slowestMs).padStart(9)}  ${s.slowestName.slice(0, 70)}`,
      );
    }
    console.log(lines.join('\n'));
  }
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** Generous per-case bound for in-process cases (tiny inputs): far above any honest run. */
export const CASE_BOUND_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Running one case in this process
// ---------------------------------------------------------------------------------------------

export interface ExpectedError {
  /** Opcode name the error must carry; null = the error must name no opcode; undefined = not checked. */
  readonly opcode?: string | null;
  /** Byte offset the error must carry (-1 = none); undefined = not checked. */
  readonly offset?: number;
  /** The message must match. */
  readonly message?: RegExp;
  /** The error's stable `code` (PickleError.code). */
  readonly code?: string;
}

export interface RunOptions {
  readonly boundMs?: number;
}

function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `non-error ${typeof e}: ${String(e)}`;
}

function describeValue(v: unknown): string {
  try {
    const s =
      typeof v === 'bigint' ? `${v}n` : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
    return (s ?? String(v)).slice(0, 200);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Run `fn`, which must throw an UnpicklingError matching `expected` within the bound, leaving the
 * prototypes untouched. Returns the error.
 */
export function refuses(
  log: CaseLog,
  category: string,
  name: string,
  fn: () => unknown,
  expected: ExpectedError = {},
  options: RunOptions = {},
): UnpicklingError {
  const quick = protoQuick();
  const t0 = performance.now();
  let thrown: unknown;
  let value: unknown;
  let threw = false;
  try {
    value = fn();
  } catch (e) {
    thrown = e;
    threw = true;
  }
  const ms = performance.now() - t0;
  log.record(category, name, ms);
  if (quickDiffers(quick, protoQuick())) expect.fail(`${name}: a shared prototype changed`);
  if (ms >= (options.boundMs ?? CASE_BOUND_MS)) expect.fail(`${name}: took ${ms.toFixed(0)} ms`);
  if (!threw) expect.fail(`${name}: expected an UnpicklingError, got the value ${describeValue(value)}`);
  if (!(thrown instanceof UnpicklingError))
    expect.fail(`${name}: expected an UnpicklingError, got ${describeThrown(thrown)}`);
  const err = thrown as UnpicklingError;
  if (expected.opcode !== undefined) {
    expect(err.opcode, `${name}: opcode of "${err.message}"`).toBe(expected.opcode ?? undefined);
    if (expected.opcode !== null) expect(err.message).toContain(`opcode ${expected.opcode} at byte`);
  }
  if (expected.offset !== undefined) {
    expect(err.offset, `${name}: offset of "${err.message}"`).toBe(expected.offset);
    if (expected.offset >= 0) expect(err.message).toContain(`at byte ${expected.offset})`);
  }
  if (expected.message !== undefined) expect(err.message, name).toMatch(expected.message);
  if (expected.code !== undefined) expect(err.code, `${name}: code of "${err.message}"`).toBe(expected.code);
  return err;
}

/** Run `fn`, which must return (within the bound, prototypes untouched); returns its value. */
export function decodes<T = unknown>(
  log: CaseLog,
  category: string,
  name: string,
  fn: () => T,
  options: RunOptions = {},
): T {
  const quick = protoQuick();
  const t0 = performance.now();
  let value: T;
  try {
    value = fn();
  } catch (e) {
    log.record(category, name, performance.now() - t0);
    expect.fail(`${name}: expected a value, got ${describeThrown(e)}`);
  }
  const ms = performance.now() - t0;
  log.record(category, name, ms);
  if (quickDiffers(quick, protoQuick())) expect.fail(`${name}: a shared prototype changed`);
  if (ms >= (options.boundMs ?? CASE_BOUND_MS)) expect.fail(`${name}: took ${ms.toFixed(0)} ms`);
  return value;
}

/**
 * Run `fn`, which may return or throw a PickleError (any other throw fails); for consumers whose
 * honest answer to some input is a refusal. Returns what happened.
 */
export function survives(
  log: CaseLog,
  category: string,
  name: string,
  fn: () => unknown,
  options: RunOptions = {},
): { value?: unknown; error?: PickleError } {
  const quick = protoQuick();
  const t0 = performance.now();
  let out: { value?: unknown; error?: PickleError };
  try {
    out = { value: fn() };
  } catch (e) {
    if (!(e instanceof PickleError)) {
      log.record(category, name, performance.now() - t0);
      expect.fail(`${name}: only a PickleError may escape, got ${describeThrown(e)}`);
    }
    out = { error: e as PickleError };
  }
  const ms = performance.now() - t0;
  log.record(category, name, ms);
  if (quickDiffers(quick, protoQuick())) expect.fail(`${name}: a shared prototype changed`);
  if (ms >= (options.boundMs ?? CASE_BOUND_MS)) expect.fail(`${name}: took ${ms.toFixed(0)} ms`);
  return out;
}

/** process.memoryUsage() deltas around `fn` (MiB); `fn`'s own exception is rethrown after measuring. */
export function memoryDelta<T>(fn: () => T): {
  result?: T;
  error?: unknown;
  arrayBuffersMiB: number;
  rssMiB: number;
} {
  const before = process.memoryUsage();
  let result: T | undefined;
  let error: unknown;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  const after = process.memoryUsage();
  const mib = (n: number): number => n / (1 << 20);
  return {
    ...(error === undefined ? { result: result as T } : { error }),
    arrayBuffersMiB: mib(after.arrayBuffers - before.arrayBuffers),
    rssMiB: mib(after.rss - before.rss),
  };
}

// ---------------------------------------------------------------------------------------------
// Running scenarios in a worker
// ---------------------------------------------------------------------------------------------

export class SandboxTimeout extends Error {
  override name = 'SandboxTimeout';
}

export interface SandboxOptions {
  /** Stack of the worker in MiB; 1 is close to the main thread's default (984 KiB). */
  readonly stackSizeMb?: number;
  /** Old-generation heap cap in MiB: a runaway allocation kills the worker, not the suite. */
  readonly maxOldGenerationSizeMb?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

const BOOT = new URL('../hostile/sandbox-boot.mjs', import.meta.url);

/**
 * A worker thread that imports `moduleUrl` (TypeScript, through tsx) and runs its exported functions
 * on request. Results must be structured-cloneable. On a deadline the worker is terminated (the call
 * rejects with SandboxTimeout) and the next call starts a fresh one.
 */
export class Sandbox {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(
    private readonly moduleUrl: URL,
    private readonly options: SandboxOptions = {},
  ) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(BOOT, {
      workerData: { module: this.moduleUrl.href },
      resourceLimits: {
        stackSizeMb: this.options.stackSizeMb ?? 1,
        maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? 3072,
      },
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => {
        reject(e);
        this.failAll(e);
        this.reset(worker);
      };
      worker.on(
        'message',
        (m: {
          ready?: true;
          id?: number;
          ok?: boolean;
          result?: unknown;
          error?: { name: string; message: string; stack?: string };
        }) => {
          if (m.ready) {
            resolve();
            return;
          }
          const p = this.pending.get(m.id as number);
          if (!p) return;
          this.pending.delete(m.id as number);
          clearTimeout(p.timer);
          if (m.ok) p.resolve(m.result);
          else {
            const e = new Error(`${m.error?.name}: ${m.error?.message}\n${m.error?.stack ?? ''}`);
            e.name = m.error?.name ?? 'Error';
            p.reject(e);
          }
        },
      );
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`sandbox worker exited (code ${code})`)));
    });
    return this.ready;
  }

  private failAll(e: unknown): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  private reset(worker: Worker): void {
    if (this.worker === worker) {
      this.worker = undefined;
      this.ready = undefined;
    }
  }

  /** Run `fn(...args)` in the worker; rejects with SandboxTimeout after `timeoutMs`. */
  async call<T>(fn: string, args: readonly unknown[], timeoutMs: number): Promise<T> {
    await this.start();
    const worker = this.worker as Worker;
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.reset(worker);
        void worker.terminate();
        reject(new SandboxTimeout(`${fn} did not finish within ${timeoutMs} ms (worker terminated)`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ id, fn, args });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      await w.terminate();
    }
  }
}
