/**
 * The viewer's decoding worker: everything heavy happens here so the page stays responsive. It keeps
 * the last decoded value for the downloads. Imports go through src/ paths for type checking; the
 * build (scripts/build-viewer.mjs) bundles them as the published package's browser build.
 */
import {
  disassembleJoblib,
  DisassemblyError,
  dumpsSafetensors,
  loads,
  picklesIn,
  ready,
  scan,
  Tensor,
  toJsonPickle,
  toPlainJson,
  torchToSafetensors,
  buildShowTree,
} from '../../src/index.js';
import { countValues, countsText, formatSize } from '../../src/tools/show/index.js';
import { decompressJoblib, detectJoblibCompression } from '../../src/joblib/compress.js';
import type { Download, FromWorker, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker, transfer?: Transferable[]): void => scope.postMessage(m, transfer);

/** Disassembly text kept (the rest is cut with a note): a 1 GB pickle lists to tens of GB. */
const MAX_DIS_CHARS = 2_000_000;
const STEPS = 6;

let current: { name: string; value: unknown } | undefined;

class Enough extends Error {}

function disassembly(plain: Uint8Array, isContainer: boolean): { text: string; truncated: boolean } {
  const parts: string[] = [];
  let size = 0;
  const write = (t: string): void => {
    parts.push(t);
    size += t.length;
    if (size > MAX_DIS_CHARS) throw new Enough();
  };
  const one = (bytes: Uint8Array): void => {
    try {
      disassembleJoblib(
        { size: bytes.length, read: (p, n) => bytes.subarray(p, p + n) },
        { all: true },
        write,
      );
    } catch (e) {
      if (e instanceof DisassemblyError) write(`${e.output}error: ${e.message}\n`);
      else throw e;
    }
  };
  try {
    if (isContainer) {
      const inner = [...picklesIn(plain)];
      if (inner.length === 0) write('(no pickle inside)\n');
      for (const p of inner) {
        write(`== ${p.name} ==\n`);
        one(p.bytes);
      }
    } else {
      one(plain);
    }
  } catch (e) {
    if (!(e instanceof Enough)) throw e;
    return { text: parts.join(''), truncated: true };
  }
  return { text: parts.join(''), truncated: false };
}

const message = (e: unknown): string =>
  e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);

/** The file's kind in words, from its first bytes. */
function kindOf(bytes: Uint8Array): { kind: string; container: boolean; npy: boolean } {
  const b = bytes;
  if (b[0] === 0x50 && b[1] === 0x4b)
    return { kind: 'zip archive (torch.save / .npz)', container: true, npy: false };
  if (b[0] === 0x93 && b[1] === 0x4e && b[2] === 0x55 && b[3] === 0x4d)
    return { kind: '.npy file', container: false, npy: true };
  // A legacy torch file starts with a pickled magic number (protocol 2, LONG1 of 10 bytes).
  if (b[0] === 0x80 && b[1] === 0x02 && b[2] === 0x8a && b[3] === 0x0a)
    return { kind: 'legacy torch file', container: true, npy: false };
  return { kind: 'pickle', container: false, npy: false };
}

function open(name: string, bytes: Uint8Array): void {
  const t0 = performance.now();
  current = undefined;
  let step = 1;
  const stage = (s: string): void => post({ type: 'progress', stage: s, step: ++step, steps: STEPS });
  const { kind, container, npy } = kindOf(bytes);
  const compression = container || npy ? undefined : detectJoblibCompression(bytes);
  let plain = bytes;
  if (compression !== undefined) {
    stage(`decompressing (${compression})`);
    try {
      plain = decompressJoblib(bytes) ?? bytes;
    } catch (e) {
      post({ type: 'error', stage: 'decompress', message: message(e) });
      post({ type: 'done', ms: performance.now() - t0 });
      return;
    }
  } else step++;
  stage('scanning for dangerous globals');
  let joblib = compression !== undefined;
  try {
    const report = scan(plain);
    joblib ||= report.globals.some((g) => g.module.startsWith('joblib.'));
    post({ type: 'scan', report });
  } catch (e) {
    post({ type: 'scan', error: message(e) });
  }
  stage(`decoding ${formatSize(plain.length)}`);
  let value: unknown;
  try {
    value = loads(plain, { lossless: true });
    current = { name, value };
  } catch (e) {
    post({ type: 'error', stage: 'decode', message: message(e) });
  }
  if (current) {
    stage('building the tree');
    const tree = buildShowTree(value, { lossless: true, depth: 8, items: 50, width: 120 });
    const what = joblib ? 'joblib file' : kind;
    const about = [compression ? `${what}, ${compression}-compressed` : what, formatSize(bytes.length)];
    if (compression) about.push(`${formatSize(plain.length)} unpacked`);
    const summary = `${about.join(', ')}; ${countsText(countValues([value]))}`;
    const downloads: Download[] = ['json', 'jsonpickle'];
    if (hasTensors(value)) downloads.push('safetensors');
    post({ type: 'tree', tree, summary, downloads });
  } else step++;
  if (npy) {
    post({
      type: 'dis',
      text: '(a .npy file holds no pickle unless its dtype is object)\n',
      truncated: false,
    });
  } else {
    stage('disassembling');
    try {
      const { text, truncated } = disassembly(plain, container);
      post({ type: 'dis', text, truncated });
    } catch (e) {
      post({ type: 'dis', text: `error: ${message(e)}\n`, truncated: false });
    }
  }
  post({ type: 'done', ms: performance.now() - t0 });
}

function hasTensors(value: unknown): boolean {
  let v = value;
  const get = (o: unknown, k: string): unknown =>
    o instanceof Map
      ? o.get(k)
      : o !== null && typeof o === 'object'
        ? (o as Record<string, unknown>)[k]
        : undefined;
  if (get(v, 'state_dict') !== undefined) v = get(v, 'state_dict');
  const values =
    v instanceof Map ? [...v.values()] : v !== null && typeof v === 'object' ? Object.values(v) : [];
  return values.some((x) => x instanceof Tensor);
}

function download(format: Download): void {
  if (!current) return;
  const stem = current.name.replace(/\.[^.]*$/, '') || 'value';
  try {
    let data: Uint8Array;
    let mime = 'application/json';
    let ext = format === 'jsonpickle' ? 'jsonpickle.json' : format;
    if (format === 'json')
      data = new TextEncoder().encode(toPlainJson(current.value, 2, { lossless: true }) + '\n');
    else if (format === 'jsonpickle') data = new TextEncoder().encode(toJsonPickle(current.value));
    else {
      const { tensors, metadata } = torchToSafetensors(current.value);
      data = dumpsSafetensors(tensors, metadata);
      mime = 'application/octet-stream';
      ext = 'safetensors';
    }
    post({ type: 'file', name: `${stem}.${ext}`, mime, data }, [data.buffer as ArrayBuffer]);
  } catch (e) {
    post({ type: 'file-error', format, message: message(e) });
  }
}

// Compressors for joblib files are registered here; the zstd encoder (writing) is never started.
const started = ready({ write: false });

scope.onmessage = (e) => {
  const m = e.data;
  void started.then(() => {
    if (m.type === 'open') open(m.name, new Uint8Array(m.bytes));
    else download(m.format);
  });
};
