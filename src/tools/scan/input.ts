/**
 * What the scan walker reads: bytes in memory, or a ByteSource (a file read by position) through a
 * window, so that scanning a multi-GB uncompressed pickle or joblib file holds about a megabyte of it
 * (joblib's array payloads are stepped over, never read).
 */
import { UnpicklingError } from '../../errors.js';
import type { ByteSource } from '../../bytes/source.js';
import { baseMessage, readOp, type GenOp } from '../genops.js';
import { OPCODES, type OpcodeInfo } from '../../opcodes.js';

/** The walker's view of a stream. */
export interface ScanInput {
  readonly length: number;
  /** The opcode at `pos` (lenient reading: what the unpickler accepts); throws UnpicklingError. */
  op(pos: number): GenOp;
  /** The byte at `pos`, undefined past the end. */
  byte(pos: number): number | undefined;
}

/**
 * A stream in memory.
 * @example
 * memoryInput(bytes).op(0).op.name // 'PROTO'
 */
export function memoryInput(data: Uint8Array): ScanInput {
  return { length: data.length, op: (pos) => readOp(data, pos, { lenient: true }), byte: (pos) => data[pos] };
}

/** First window; an opcode that does not fit is read again from a window that holds it. */
const WINDOW = 1 << 20;
/** Text-line opcodes (protocol 0) longer than this are reported, not searched for further. */
const MAX_LINE = 64 << 20;

/** readOp's messages for an argument that runs past the bytes it was given. */
const OUT_OF_DATA = /not enough data|but only \d+ remain|no newline found|exhausted/;

/** Opcodes whose argument is a length (1, 4 or 8 bytes, little-endian) followed by that many bytes. */
const COUNTED: ReadonlyMap<number, number> = new Map([
  [0x55, 1], // SHORT_BINSTRING
  [0x43, 1], // SHORT_BINBYTES
  [0x8c, 1], // SHORT_BINUNICODE
  [0x8a, 1], // LONG1
  [0x54, 4], // BINSTRING
  [0x42, 4], // BINBYTES
  [0x58, 4], // BINUNICODE
  [0x8b, 4], // LONG4
  [0x8d, 8], // BINUNICODE8
  [0x8e, 8], // BINBYTES8
  [0x96, 8], // BYTEARRAY8
]);

/**
 * Bytes and text arguments larger than this are stepped over unread: the walker treats bytes as
 * opaque, and no module or class name is megabytes long. Random array bytes that pickle.load would
 * run as opcodes (the scanner's second pass) often declare such lengths.
 */
const BIG_ARG = 16 << 20;
const SKIPPABLE: ReadonlyMap<number, OpcodeInfo> = new Map(
  OPCODES.filter((o) => [0x54, 0x42, 0x58, 0x8d, 0x8e, 0x96].includes(o.code)).map((o) => [o.code, o]),
);

/**
 * A ByteSource read through a window. Counted arguments are sized before they are read, so a
 * length that runs past the end (random array bytes walked as opcodes, a truncated file) is
 * reported without reading the rest of the file.
 * @example
 * sourceInput(FileSource.open('big.joblib')).op(0)
 */
export function sourceInput(source: ByteSource, window = WINDOW): ScanInput {
  let win: Uint8Array = new Uint8Array(0);
  let start = 0;
  const load = (pos: number, n: number): void => {
    win = source.read(pos, Math.min(n, source.size - pos));
    start = pos;
  };
  const has = (pos: number): boolean => pos >= start && pos < start + win.length;
  return {
    length: source.size,
    byte(pos) {
      if (pos < 0 || pos >= source.size) return undefined;
      if (!has(pos)) load(pos, window);
      return win[pos - start];
    },
    op(pos) {
      if (pos >= source.size) throw new UnpicklingError('pickle exhausted before seeing STOP', pos);
      if (!has(pos)) load(pos, window);
      let want = window;
      for (;;) {
        try {
          const g = readOp(win, pos - start, { lenient: true });
          return start === 0 ? g : { ...g, pos: g.pos + start, end: g.end + start };
        } catch (e) {
          if (!(e instanceof UnpicklingError)) throw e;
          if (start + win.length >= source.size) throw absolute(e, start);
          const need = countedEnd(win, pos - start);
          if (need !== undefined) {
            // The argument's size is known: read exactly it when the stream holds it, else report.
            if (need === -1 || pos + need > source.size) throw absolute(e, start);
            if (need <= win.length - (pos - start)) throw absolute(e, start);
            const skip = SKIPPABLE.get(win[pos - start] as number);
            if (skip !== undefined && need > BIG_ARG) {
              return {
                op: skip,
                arg: skip.arg.startsWith('bytes') ? new Uint8Array(0) : '',
                pos,
                end: pos + need,
              };
            }
            want = need;
          } else {
            // Only running out of window is worth a larger one (a text line, a length cut by the
            // window's end); an unknown opcode or a bad literal is the answer.
            if (!OUT_OF_DATA.test(baseMessage(e))) throw absolute(e, start);
            want = Math.max(want, win.length) * 2;
            if (want > MAX_LINE) throw absolute(e, start);
          }
          load(pos, want);
        }
      }
    },
  };
}

/**
 * Bytes from `rel` to the end of a counted opcode's argument; -1 for a negative or absurd length;
 * undefined when the opcode is not counted or its length field is cut by the window's end.
 */
function countedEnd(win: Uint8Array, rel: number): number | undefined {
  const width = COUNTED.get(win[rel] as number);
  if (width === undefined || rel + 1 + width > win.length) return undefined;
  const v = new DataView(win.buffer, win.byteOffset + rel + 1, width);
  const n = width === 1 ? v.getUint8(0) : width === 4 ? v.getInt32(0, true) : Number(v.getBigInt64(0, true));
  if (n < 0 || !Number.isSafeInteger(n)) return -1;
  return 1 + width + n;
}

/** A readOp error with offsets in the whole stream instead of the window. */
function absolute(e: UnpicklingError, start: number): UnpicklingError {
  if (start === 0 || e.offset < 0) return e;
  const at = e.offset + start;
  const message = baseMessage(e).replace(`at position ${e.offset},`, `at position ${at},`);
  return new UnpicklingError(message, at, e.opcode, e.code);
}
