/**
 * What a file that is not a pickle is, from its first bytes, so that a user who hands picklejar an
 * HDF5 model or a Parquet table reads "this is an HDF5 file" instead of an opcode error at byte 0.
 * Only consulted after decoding has failed: a valid pickle is never second-guessed.
 */
import { UnpicklingError } from '../errors.js';

export interface Sniffed {
  /** What the bytes are, as a phrase: 'an HDF5 file'. */
  readonly what: string;
  /** What to do instead. */
  readonly hint: string;
}

function startsWith(data: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (data.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
  return true;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** Magic numbers of formats users mistake for pickles (ML files first). */
const MAGICS: readonly [bytes: number[], at: number, what: string, hint: string][] = [
  [
    [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a],
    0,
    'an HDF5 file (h5py, Keras .h5, pandas HDFStore)',
    'read it with h5py or pandas.read_hdf in Python, or an HDF5 library',
  ],
  [ascii('GGUF'), 0, 'a GGUF model (llama.cpp)', 'read it with a GGUF reader; it holds no pickle'],
  [ascii('PAR1'), 0, 'an Apache Parquet file', 'read it with a Parquet library (e.g. parquet-wasm, DuckDB)'],
  [ascii('ARROW1'), 0, 'an Apache Arrow IPC / Feather v2 file', 'read it with apache-arrow'],
  [ascii('FEA1'), 0, 'a Feather v1 file', 'read it with pandas.read_feather in Python'],
  [ascii('TFL3'), 4, 'a TensorFlow Lite model', 'use a TFLite runtime'],
  [[0x7f, 0x45, 0x4c, 0x46], 0, 'an ELF executable or shared library', 'it is not data'],
  [ascii('%PDF'), 0, 'a PDF document', 'it is not a pickle'],
  [[0x89, 0x50, 0x4e, 0x47], 0, 'a PNG image', 'it is not a pickle'],
  [[0xff, 0xd8, 0xff], 0, 'a JPEG image', 'it is not a pickle'],
  [ascii('GIF8'), 0, 'a GIF image', 'it is not a pickle'],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 0, 'a 7-Zip archive', 'extract it first'],
  [ascii('Rar!'), 0, 'a RAR archive', 'extract it first'],
  [
    ascii('ustar'),
    257,
    'a tar archive',
    'extract it first (PyTorch < 0.4 checkpoints were tar archives; they are not supported)',
  ],
  [[0x50, 0x4b, 0x03, 0x04], 0, 'a zip archive', 'extract the pickle from it first'],
  [[0x50, 0x4b, 0x05, 0x06], 0, 'an empty zip archive', 'it holds nothing to load'],
  [[0x28, 0xb5, 0x2f, 0xfd], 0, 'zstd-compressed data', 'decompress it first'],
];

/** A safetensors file: u64 LE header length, then that many bytes of JSON starting with '{'. */
function isSafetensors(data: Uint8Array): boolean {
  if (data.length < 10 || data[8] !== 0x7b) return false;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  return (
    hi === 0 && lo >= 2 && lo <= data.length - 8 && (data[8 + lo - 1] === 0x7d || data[8 + lo - 1] === 0x20)
  );
}

/** True when the first bytes read as text (UTF-8 without control characters other than whitespace). */
function looksLikeText(data: Uint8Array): boolean {
  const n = Math.min(data.length, 512);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const b = data[i] as number;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
    if (b === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(0, n - (n === 512 ? 4 : 0)));
  } catch {
    return false;
  }
  return true;
}

function textStart(data: Uint8Array): string {
  const s = new TextDecoder().decode(data.subarray(0, 40)).replace(/\s+/g, ' ').trim();
  return JSON.stringify(s.length > 30 ? s.slice(0, 30) + '…' : s);
}

/**
 * Name the format of bytes that failed to decode as a pickle, or undefined when nothing is recognised.
 * @example
 * sniffFormat(new TextEncoder().encode('{"a": 1}'))?.what; // 'JSON text'
 */
export function sniffFormat(data: Uint8Array): Sniffed | undefined {
  for (const [bytes, at, what, hint] of MAGICS) if (startsWith(data, bytes, at)) return { what, hint };
  if (isSafetensors(data))
    return {
      what: 'a safetensors file',
      hint: 'loads() and load() read it (loadsSafetensors), `picklejar show` shows it',
    };
  if (looksLikeText(data)) {
    const first = String.fromCharCode(data.find((b) => b > 0x20) ?? 0x20);
    const kind = first === '{' || first === '[' ? 'JSON text' : first === '<' ? 'XML or HTML text' : 'text';
    return {
      what: `${kind} (starts with ${textStart(data)})`,
      hint: 'it is not a pickle: pickles are binary (or protocol-0 opcode text)',
    };
  }
  return undefined;
}

/** Failures that say the bytes are not a well-formed pickle (not refusals of a well-formed one). */
const STRUCTURAL = new Set(['bad-opcode', 'truncated', 'stack', 'memo', 'invalid-value', 'unsupported']);

/**
 * A decoding failure of bytes that are another format altogether becomes an error that says what
 * they are (code 'wrong-format'); anything else is returned as it was. Text is named only when the
 * very first byte failed, since protocol-0 pickles are text too.
 */
export function explainNotAPickle(e: unknown, data: Uint8Array, compression: string | undefined): unknown {
  if (!(e instanceof UnpicklingError) || !STRUCTURAL.has(e.code)) return e;
  const found = sniffFormat(data);
  if (found === undefined || (found.what.includes('text') && !(e.code === 'bad-opcode' && e.offset === 0)))
    return e;
  const inner = compression === undefined ? '' : `${compression}-compressed data holding `;
  const err = new UnpicklingError(
    `not a pickle: this is ${inner}${found.what}; ${found.hint}`,
    -1,
    undefined,
    'wrong-format',
  );
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}
