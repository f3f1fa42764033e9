/**
 * The memo: how it grows, and which writes it can skip. One of the decoder's performance mechanisms.
 *
 * Growth. MEMOIZE appends one slot at a time; a large memo grows by over-allocation (MEMO_GROW_FROM),
 * as V8's own step-by-step growth copied it into a fresh store at every step.
 *
 * Reach. CPython memoizes every str, list, dict and tuple it writes (protocol 4: one MEMOIZE each),
 * but only the values it meets again are read back, by BINGET or LONG_BINGET. dicts_200k memoizes
 * 600k values and reads six of them; strings_500k memoizes 500k and reads none. Each write stores a
 * pointer to a new object into a large old-generation array (a write barrier and a remembered-set
 * entry the scavenger visits) and grows that array (fresh memory). So once a pickle has memoized
 * SCAN_AT values densely, one pass over the rest of its opcodes (scanMemoReads: lengths only, nothing
 * decoded) lists the memo indices that a later LONG_BINGET can read; MEMOIZE then writes only those.
 * Measured (CPU ms, bench/out): dicts_200k decode 280 → 200, strings_500k 150 → 120 (with lists.ts's
 * exact-size lists); the pass itself costs ~2 ns per opcode.
 *
 * Invariant (tested by test/decoder-mechanisms.test.ts and test/memo.test.ts): every memo slot that
 * an opcode can read holds its value. It holds because
 * - the pass starts only after SCAN_AT memoized values, so BINGET (indices < 256) is never affected;
 * - it counts MEMOIZEs as the decoder does, and marks every LONG_BINGET index written by then;
 * - it reads opcodes exactly as the decoder does, so it gives up (every write is kept) where the
 *   decoder's reading could differ from its own: an opcode that may run a handler or hook (GLOBAL,
 *   STACK_GLOBAL, EXT*, REDUCE, BUILD, NEWOBJ*, INST, OBJ, PERSID, BINPERSID: a handler may read raw
 *   bytes from the stream, as joblib's array wrapper does), an explicit memo index (PUT, BINPUT,
 *   LONG_BINPUT, GET would break "MEMOIZE writes slot len(memo)"), an invalid opcode, a length running
 *   past the input, or no STOP;
 * - the decoder starts it only when no PUT came before and the whole input is in memory (a windowed
 *   source cannot be read ahead);
 * - nothing else reads the memo: handlers and hooks never see it, and dicts.ts's upgrade only looks
 *   for slots that hold an object.
 */
import { OPCODES, type ArgKind } from '../opcodes.js';

/** A memo at least this large grows by over-allocation (as V8 grows it step by step, each a copy). */
export const MEMO_GROW_FROM = 16384;
/** At most this many spare slots per growth step (64 MB of pointers). */
export const MEMO_GROW_MAX = 1 << 23;

/** The reach pass runs when the memo reaches this many values... */
export const SCAN_AT = 4096;
/** ...written densely: at most this many input bytes per memoized value so far (else it never runs). */
export const SCAN_DENSITY = 64;

// Walker table: for each opcode, its fixed argument size (0..8), or one of these.
const LEN1 = 9; // 1-byte length, then the payload
const LEN4 = 10; // 4-byte unsigned length
const LEN4S = 11; // 4-byte signed length (negative: the decoder fails there)
const LEN8 = 12; // 8-byte length
const LINE = 13; // one newline-terminated line
const LINE2 = 14; // two lines
const GET4 = 16; // LONG_BINGET
const MEMOIZE = 17;
const STOP = 18;
const GIVE_UP = 19; // a handler may run, explicit memo indices, or not an opcode

const ARG_LAYOUT: Record<ArgKind, number> = {
  none: 0,
  uint1: 1,
  uint2: 2,
  uint4: 4,
  int4: 4,
  uint8: 8,
  float8: 8,
  long1: LEN1,
  string1: LEN1,
  bytes1: LEN1,
  unicodestring1: LEN1,
  long4: LEN4S,
  string4: LEN4S,
  bytes4: LEN4,
  unicodestring4: LEN4,
  bytes8: LEN8,
  bytearray8: LEN8,
  unicodestring8: LEN8,
  decimalnl_short: LINE,
  decimalnl_long: LINE,
  floatnl: LINE,
  stringnl: LINE,
  stringnl_noescape: LINE,
  unicodestringnl: LINE,
  stringnl_noescape_pair: LINE2,
};

// BINGET reads slots below 256, all written before the pass starts (SCAN_AT > 256): a plain 1-byte skip.
const SPECIAL: Record<string, number> = { LONG_BINGET: GET4, MEMOIZE, STOP };
for (const name of ['PUT', 'BINPUT', 'LONG_BINPUT', 'GET']) SPECIAL[name] = GIVE_UP;
for (const name of [
  'GLOBAL',
  'STACK_GLOBAL',
  'EXT1',
  'EXT2',
  'EXT4',
  'REDUCE',
  'BUILD',
  'NEWOBJ',
  'NEWOBJ_EX',
  'INST',
  'OBJ',
  'PERSID',
  'BINPERSID',
]) {
  SPECIAL[name] = GIVE_UP;
}
const LAYOUT = new Uint8Array(256).fill(GIVE_UP);
for (const op of OPCODES) {
  LAYOUT[op.code] = SPECIAL[op.name] ?? ARG_LAYOUT[op.arg];
}

/**
 * Which memo slots from `memoCount` on can be read by the rest of this pickle (from `pos`, an opcode
 * boundary, to its STOP): `reads[i] === 1` for each such slot i (the array ends after the last one).
 * Undefined when the pass cannot tell (see the invariant above): then every write must be kept.
 * @example
 * // EMPTY_LIST MEMOIZE LONG_BINGET 0 STOP: slot 0 is read.
 * scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x6a, 0, 0, 0, 0, 0x2e]), 0, 0); // Uint8Array [1]
 */
export function scanMemoReads(data: Uint8Array, pos: number, memoCount: number): Uint8Array | undefined {
  const end = data.length;
  const from = memoCount;
  let reads = new Uint8Array(0);
  let count = memoCount; // slots written so far, as the decoder will count them
  let last = -1; // highest slot read from `from` on
  while (pos < end) {
    const op = data[pos++] as number;
    // The opcodes of plain data first, as literals (a jump table: 30 % faster than the table lookup
    // alone on dicts_200k); every other opcode goes through LAYOUT.
    switch (op) {
      case 0x94: // MEMOIZE
        count++;
        continue;
      case 0x68: // BINGET (slots below 256: written before the pass starts)
      case 0x4b: // BININT1
        pos += 1;
        continue;
      case 0x8c: // SHORT_BINUNICODE
        if (pos >= end) return undefined;
        pos += 1 + (data[pos] as number);
        continue;
      case 0x4d: // BININT2
        pos += 2;
        continue;
      case 0x4a: // BININT
        pos += 4;
        continue;
      case 0x47: // BINFLOAT
        pos += 8;
        continue;
      case 0x28: // MARK
      case 0x65: // APPENDS
      case 0x75: // SETITEMS
      case 0x7d: // EMPTY_DICT
      case 0x5d: // EMPTY_LIST
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        continue;
    }
    const layout = LAYOUT[op] as number;
    if (layout <= 8) {
      pos += layout;
      continue;
    }
    switch (layout) {
      case GET4: {
        if (pos + 4 > end) return undefined;
        const idx =
          (data[pos] as number) |
          ((data[pos + 1] as number) << 8) |
          ((data[pos + 2] as number) << 16) |
          ((data[pos + 3] as number) << 24);
        pos += 4;
        // Only slots written by then can be read (a later slot: the decoder fails at this GET).
        if (idx >= from && idx < count) {
          if (idx >= reads.length) {
            const grown = new Uint8Array(Math.max(idx + 1, Math.min(2 * reads.length + 4096, count)));
            grown.set(reads);
            reads = grown;
          }
          reads[idx] = 1;
          if (idx > last) last = idx;
        }
        break;
      }
      case LEN4:
      case LEN4S: {
        if (pos + 4 > end) return undefined;
        const n =
          (data[pos] as number) |
          ((data[pos + 1] as number) << 8) |
          ((data[pos + 2] as number) << 16) |
          ((data[pos + 3] as number) << 24);
        if (n < 0 && layout === LEN4S) return undefined;
        pos += 4 + (n >>> 0);
        break;
      }
      case LEN8: {
        if (pos + 8 > end) return undefined;
        const lo =
          ((data[pos] as number) |
            ((data[pos + 1] as number) << 8) |
            ((data[pos + 2] as number) << 16) |
            ((data[pos + 3] as number) << 24)) >>>
          0;
        const hi =
          (data[pos + 4] as number) |
          ((data[pos + 5] as number) << 8) |
          ((data[pos + 6] as number) << 16) |
          ((data[pos + 7] as number) << 24);
        if (hi !== 0) return undefined;
        pos += 8 + lo;
        break;
      }
      case LINE:
      case LINE2: {
        let nl = data.indexOf(0x0a, pos);
        if (nl < 0) return undefined;
        if (layout === LINE2) nl = data.indexOf(0x0a, nl + 1);
        if (nl < 0) return undefined;
        pos = nl + 1;
        break;
      }
      case MEMOIZE: // (unreachable: handled above)
        count++;
        break;
      case LEN1:
        if (pos >= end) return undefined;
        pos += 1 + (data[pos] as number);
        break;
      case STOP:
        return reads.subarray(0, last + 1);
      default:
        return undefined;
    }
  }
  return undefined; // no STOP: the decoder fails before the skipped slots could matter, keep them anyway
}
