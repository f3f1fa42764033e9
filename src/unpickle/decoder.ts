/**
 * The unpickling loop: one non-recursive `switch` over the input, with the value stack, mark stack and
 * memo as locals. The hot opcodes (what CPython's protocols 2-5 write for data) are inline; the cold
 * ones (protocol-0 text, INST/OBJ, PERSID, EXT, buffers, frames) call the named `load*` methods of
 * src/unpickle/machine.ts, as CPython's pickle.py names its handlers.
 *
 * Case labels are the opcode bytes as literals, each with its name in a comment: V8 compiles a switch
 * on small-integer literals to a jump table, and a label read from a constant would turn it into a
 * chain of comparisons. test/opcodes.test.ts checks every label and comment against the one opcode
 * table (src/opcodes.ts).
 *
 * Performance mechanisms, each with one home that states its invariant and a test that enforces it:
 * - fresh lists (below, in the loop): a list's first APPENDS replaces it by an exact-size slice;
 * - large lists filled once at their exact size: src/unpickle/lists.ts;
 * - memo growth, and memo writes skipped when no later opcode can read them: src/unpickle/memo.ts;
 * - the default mode's dict upgrade and memo tracking: src/unpickle/dicts.ts;
 * - the anchor that keeps the compiled loop alive: MACHINE_ANCHOR below.
 */
import { opcodeName } from '../opcodes.js';
import type { ByteSource } from '../bytes/source.js';
import { decodeUtf8, TextError } from '../bytes/text.js';
import { UnpicklingError } from '../errors.js';
import { FamilySet } from '../family.js';
import {
  ByteArray,
  FrozenSet,
  PyObject,
  Tuple,
  isHashable,
  isPlainObject,
  setOwn,
} from '../python/values.js';
import { fixUpgraded, indexMemo, markGotten, upgradeDict, type DictTracking } from './dicts.js';
import { ListBatches } from './lists.js';
import { MEMO_GROW_FROM, MEMO_GROW_MAX, SCAN_AT, SCAN_DENSITY, scanMemoReads } from './memo.js';
import { MachineBase, asUnpicklingError, describeType, type Decoded, type Windowing } from './machine.js';
import { resolveOptions, type Resolved } from './resolve.js';

export { resolveOptions } from './resolve.js';
export { describeType } from './machine.js';
export type { Decoded } from './machine.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** Opcodes between checks of the stack/memo limits (a power of two: bounds the overshoot, keeps the loop lean). */
const CHECK_EVERY = 4096;

/**
 * One decoding run. A Machine decodes one pickle per `run` call; `loadsAll` calls it repeatedly. State
 * that handlers need (position, protocol) lives on the instance; the loop mirrors it in locals and
 * syncs around handler calls.
 */
export class Machine extends MachineBase implements DictTracking {
  memo: unknown[] = [];
  memoIndex: Map<object, number[]> | undefined;
  upgraded: Map<object, Map<unknown, unknown>> | undefined;
  gotten: Uint8Array = new Uint8Array(256);
  escaped = false;
  private readonly lists = new ListBatches();

  constructor(input: Uint8Array | ByteSource, opts: Resolved, nested = 0, windowing?: Windowing) {
    super(input, opts, nested, windowing);
  }

  protected spawn(input: Uint8Array | ByteSource, nested: number): Machine {
    return new Machine(input, this.opts, nested, this.windowing);
  }

  /** Decode one pickle starting at stream offset `start`. */
  run(start: number): Decoded {
    try {
      this.seek(start);
      return this.loop(this.pos);
    } catch (e) {
      // A handler (or a user constructor) failed: report it as a decoding failure at this opcode.
      throw asUnpicklingError(e, this.offset, this.opcode);
    }
  }

  // ---- helpers of the loop (methods, so the loop's locals stay in registers) -------------------

  /** A handler is about to run: lists show their real length, and it sees where the stream is. */
  private sync(pos: number, opPos: number, code: number): void {
    if (this.lists.pending) this.lists.fill();
    this.pos = pos;
    this.offset = this.base + opPos;
    this.opcode = opcodeName(code);
  }

  /** A value from a handler, a hook or DUP: a plain object may now be referenced twice (dicts.ts). */
  private handed<T>(v: T): T {
    if (v !== null && typeof v === 'object' && isPlainObject(v)) this.escaped = true;
    return v;
  }

  /** SETITEM(S)/DICT: set stack[from..to) as key/value pairs on `target` (at stack[at]). */
  private setItems(
    target: unknown,
    stack: unknown[],
    at: number,
    from: number,
    to: number,
    opPos: number,
    code: number,
  ): void {
    if ((to - from) % 2 !== 0)
      throw this.fail(`odd number of items for ${opcodeName(code)}`, opPos, code, 'stack');
    if (target instanceof Map) {
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        if (typeof k === 'object' && k !== null && !isHashable(k))
          throw this.fail(`unhashable dict key: ${describeType(k)}`, opPos, code, 'unhashable');
        target.set(k, stack[i + 1]);
      }
      return;
    }
    if (isPlainObject(target)) {
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        if (typeof k === 'string') {
          if (k === '__proto__') setOwn(target, k, stack[i + 1]);
          else target[k] = stack[i + 1];
        } else {
          this.setItems(upgradeDict(this, target, stack, at), stack, at, i, to, opPos, code);
          return;
        }
      }
      return;
    }
    if (target instanceof PyObject) {
      const d = (target.__dictitems__ ??= new Map());
      for (let i = from; i < to; i += 2) {
        if (!isHashable(stack[i]))
          throw this.fail(`unhashable dict key: ${describeType(stack[i])}`, opPos, code, 'unhashable');
        d.set(stack[i], stack[i + 1]);
      }
      return;
    }
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      // Python's generic `obj[key] = value`: on a list an int index in range works. CPython never
      // writes this, but its unpickler accepts a hand-made stream that does.
      for (let i = from; i < to; i += 2) {
        const k = stack[i];
        const n = typeof k === 'boolean' ? Number(k) : typeof k === 'bigint' ? Number(k) : k;
        if (typeof n !== 'number' || !Number.isInteger(n)) {
          throw this.fail(
            `list indices must be integers, not ${describeType(k)}`,
            opPos,
            code,
            'invalid-value',
          );
        }
        const idx = n < 0 ? n + target.length : n;
        if (!(idx >= 0 && idx < target.length))
          throw this.fail('list assignment index out of range', opPos, code, 'invalid-value');
        target[idx] = stack[i + 1];
      }
      return;
    }
    throw this.fail(`cannot set items on ${describeType(target)}`, opPos, code, 'stack');
  }

  /** APPEND(S): stack[from..to) onto `target`. */
  private appendItems(
    target: unknown,
    stack: unknown[],
    from: number,
    to: number,
    opPos: number,
    code: number,
  ): void {
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      for (let i = from; i < to; i++) target.push(stack[i]);
    } else if (target instanceof PyObject) {
      const l = (target.__items__ ??= []);
      for (let i = from; i < to; i++) l.push(stack[i]);
    } else throw this.fail(`cannot append to ${describeType(target)}`, opPos, code, 'stack');
  }

  /** ADDITEMS: stack[from..to) into a set. */
  private addItems(
    target: unknown,
    stack: unknown[],
    from: number,
    to: number,
    opPos: number,
    code: number,
  ): void {
    if (target instanceof Set && !(target instanceof FrozenSet)) {
      for (let i = from; i < to; i++) {
        if (!isHashable(stack[i]))
          throw this.fail(`unhashable set element: ${describeType(stack[i])}`, opPos, code, 'unhashable');
        target.add(stack[i]);
      }
    } else if (target instanceof PyObject) {
      const l = (target.__items__ ??= []);
      for (let i = from; i < to; i++) l.push(stack[i]);
    } else throw this.fail(`cannot add items to ${describeType(target)}`, opPos, code, 'stack');
  }

  private checkLimits(stackLen: number, memoCount: number, ops: number, opPos: number, code: number): void {
    const limits = this.opts.limits;
    if (stackLen > limits.maxStack)
      throw this.fail(
        `stack exceeds limits.maxStack (${limits.maxStack}); raise it to allow more`,
        opPos,
        code,
        'limit',
      );
    if (memoCount > limits.maxMemo)
      throw this.fail(
        `memo exceeds limits.maxMemo (${limits.maxMemo}); raise it to allow more`,
        opPos,
        code,
        'limit',
      );
    if (ops > limits.maxOpcodes)
      throw this.fail(
        `more than limits.maxOpcodes (${limits.maxOpcodes}) opcodes; raise it to allow more`,
        opPos,
        code,
        'limit',
      );
  }

  /**
   * The memo has reached SCAN_AT values: if they came densely, find the slots a later opcode can read
   * (memo.ts); the memo gets room for all of them now, so those writes never leave a gap.
   */
  private scanMemo(start: number, pos: number, memo: unknown[], memoCount: number): Uint8Array | undefined {
    if (pos - start > SCAN_DENSITY * memoCount) return undefined;
    const reads = scanMemoReads(this.data, pos, memoCount);
    if (reads !== undefined && memo.length < reads.length) memo.length = reads.length;
    return reads;
  }

  private dictFromSlice(stack: unknown[], m: number, end: number, opPos: number, code: number): unknown {
    let allStr = !this.lossless;
    for (let i = m; allStr && i < end; i += 2) allStr = typeof stack[i] === 'string';
    const d: unknown = allStr ? {} : new Map();
    // The pairs sit at stack[m..end); the dict is pushed after they are consumed.
    this.setItems(d, stack, -1, m, end, opPos, code);
    return d;
  }

  private loop(start: number): Decoded {
    let data = this.data;
    let view = this.view;
    let len = data.length;
    let refillAt = this.refillAt;
    const windowed = this.source !== undefined;
    const lossless = this.lossless;
    const maxDepth = this.opts.limits.maxDepth;
    const stack: unknown[] = [];
    const marks: number[] = [];
    const memo: unknown[] = (this.memo = []);
    this.memoIndex = undefined;
    this.upgraded = undefined;
    let gotten: Uint8Array = (this.gotten = new Uint8Array(256));
    // Memo reach (memo.ts): at memoCount === scanAt the pass runs once; `reads` then says which
    // slots a later opcode can read. A PUT (explicit index) or a windowed input rules it out.
    let scanAt = this.source === undefined ? SCAN_AT : -1;
    let reads: Uint8Array | undefined;
    this.escaped = false;
    let fence = 0; // stack index of the innermost mark: items below it are out of reach
    // Fresh lists. The newest EMPTY_LIST while only its stack slot (at freshAt) and at most one memo
    // slot (freshMemo) refer to it; its first APPENDS replaces it by an exact-size slice of the stack (a
    // list grown from [] keeps V8's growth slack: a 2-item list took 184 bytes instead of 64, dicts_200k
    // allocated 24 MB less). Invariant: any opcode that could copy the reference elsewhere (GET, DUP,
    // a second PUT, a handler call) clears `fresh` first; test/decoder-mechanisms.test.ts checks it.
    let fresh: unknown[] | undefined;
    let freshAt = -1;
    let freshMemo = -1;
    this.lists.reset();
    // An explicit top index: shrinking a JS array's length makes V8 trim and regrow its store (GC churn).
    let sp = 0;
    let memoCount = 0;
    let ops = 0;
    let pos = start;
    let opPos: number;
    let code: number;

    for (;;) {
      if (pos >= refillAt) {
        // Windowed input: slide the window so the next opcode finds up to AHEAD bytes (machine.ts).
        this.slide(pos);
        data = this.data;
        view = this.view;
        len = data.length;
        refillAt = this.refillAt;
        pos = this.pos;
      }
      if (pos >= len) throw this.fail('pickle data was truncated (no STOP opcode)', pos, -1, 'truncated');
      opPos = pos;
      code = data[pos++] as number;
      if ((++ops & (CHECK_EVERY - 1)) === 0) this.checkLimits(sp, memoCount, ops, opPos, code);
      switch (code) {
        // ---- strings first: the most frequent opcodes in real pickles
        case 0x8c: {
          // SHORT_BINUNICODE
          if (pos >= len) throw this.truncated(opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = decodeUtf8Or(data, pos, pos + n, this.base + opPos, code);
          pos += n;
          break;
        }
        case 0x94: // MEMOIZE
          if (sp <= fence) throw this.underflow(opPos, code);
          if (reads !== undefined && (memoCount >= reads.length || reads[memoCount] === 0)) {
            memoCount++; // no later opcode reads this slot (memo.ts)
            break;
          }
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = memoCount;
            else fresh = undefined;
          }
          if (memo[memoCount] === undefined) {
            // A large memo grows by over-allocation (memo.ts); it is never read outside the machine,
            // and a hole reads as undefined like an unset slot.
            if (memoCount >= memo.length && memoCount >= MEMO_GROW_FROM) {
              memo.length = memoCount + Math.min(memoCount, MEMO_GROW_MAX);
            }
            memo[memoCount] = stack[sp - 1];
            if (this.memoIndex !== undefined) indexMemo(this, stack[sp - 1], memoCount);
            memoCount++;
            if (memoCount === scanAt) {
              scanAt = -1;
              reads = this.scanMemo(start, pos, memo, memoCount);
            }
          } else {
            // A PUT already used this index: Python's memo[len(memo)] overwrites it.
            memo[memoCount] = stack[sp - 1];
          }
          break;
        case 0x4b: // BININT1
          if (pos >= len) throw this.truncated(opPos, code);
          stack[sp++] = lossless ? BigInt(data[pos++] as number) : (data[pos++] as number);
          break;
        case 0x4d: // BININT2
          if (2 > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = lossless ? BigInt(view.getUint16(pos, true)) : view.getUint16(pos, true);
          pos += 2;
          break;
        case 0x4a: // BININT
          if (4 > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = lossless ? BigInt(view.getInt32(pos, true)) : view.getInt32(pos, true);
          pos += 4;
          break;
        case 0x8a: {
          // LONG1
          if (pos >= len) throw this.truncated(opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.truncated(opPos, code);
          if (n >= 5 && n <= 8 && !lossless) {
            // 33..64-bit values (CPython writes ints >= 2**31 this way): two DataView reads, a double
            // when the value is safe. Inlined here: it is the hot path of int-heavy pickles (bench).
            const lo = view.getUint32(pos, true);
            let hi: number;
            if (n === 8) hi = view.getInt32(pos + 4, true);
            else {
              hi = 0;
              for (let i = pos + n - 1; i >= pos + 4; i--) hi = hi * 256 + (data[i] as number);
              if ((data[pos + n - 1] as number) & 0x80) hi -= 2 ** (8 * (n - 4));
            }
            const v = hi * 4294967296 + lo;
            if (hi >= -0x200000 && hi < 0x200000 && Number.isSafeInteger(v)) stack[sp++] = v;
            // Beyond 2**53 a full 8-byte value is one read of the view we already have (a DataView per
            // value was 15 % of ints_1m decode time).
            else stack[sp++] = n === 8 ? view.getBigInt64(pos, true) : decodeLong(data, view, pos, n, false);
          } else stack[sp++] = decodeLong(data, view, pos, n, lossless);
          pos += n;
          break;
        }
        case 0x47: // BINFLOAT
          if (8 > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = view.getFloat64(pos, false);
          pos += 8;
          break;
        case 0x28: // MARK
          marks.push(sp);
          fence = sp;
          if (marks.length > maxDepth) {
            throw this.fail(
              `MARK nesting exceeds limits.maxDepth (${maxDepth}); raise it to allow more`,
              opPos,
              code,
              'limit',
            );
          }
          break;
        case 0x68: {
          // BINGET
          if (pos >= len) throw this.truncated(opPos, code);
          const v = memo[data[pos] as number];
          if (v === undefined)
            throw this.fail(`memo value not found at index ${data[pos]}`, opPos, code, 'memo');
          if (v === fresh) fresh = undefined;
          gotten[data[pos] as number] = 1;
          pos++;
          stack[sp++] = v;
          break;
        }
        case 0x71: // BINPUT
          if (pos >= len) throw this.truncated(opPos, code);
          if (sp <= fence) throw this.underflow(opPos, code);
          scanAt = -1; // (explicit indices: no memo reach pass)
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = data[pos] as number;
            else fresh = undefined;
          }
          if (memo[data[pos] as number] === undefined) memoCount++;
          memo[data[pos] as number] = stack[sp - 1];
          if (this.memoIndex !== undefined) indexMemo(this, stack[sp - 1], data[pos] as number);
          pos++;
          break;
        case 0x7d: // EMPTY_DICT
          stack[sp++] = lossless ? new Map() : {};
          break;
        case 0x5d: {
          // EMPTY_LIST
          const l: unknown[] = [];
          fresh = l;
          freshAt = sp;
          freshMemo = -1;
          stack[sp++] = l;
          break;
        }
        case 0x75: {
          // SETITEMS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          // No items: nothing to do, whatever the target is (CPython's C unpickler returns early too).
          if (m < sp) {
            if (Array.isArray(stack[m - 1])) this.lists.fill(); // (a list's real length)
            this.setItems(stack[m - 1], stack, m - 1, m, sp, opPos, code);
          }
          sp = m;
          break;
        }
        case 0x65: {
          // APPENDS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          if (m === sp) break; // no items: nothing to do, whatever the target is (as in CPython)
          const target = stack[m - 1];
          if (fresh !== undefined && target === fresh && m - 1 === freshAt && fresh.length === 0) {
            const items = stack.slice(m, sp);
            stack[m - 1] = items;
            if (freshMemo >= 0 && memo[freshMemo] === target) memo[freshMemo] = items;
            fresh = undefined;
          } else if (Array.isArray(target) && Object.getPrototypeOf(target) === Array.prototype) {
            // A plain list (subclasses such as Deque with maxlen go through their own push).
            this.lists.append(target, stack, m, sp);
          } else this.appendItems(target, stack, m, sp, opPos, code);
          sp = m;
          break;
        }
        case 0x61: {
          // APPEND
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const target = stack[sp - 2];
          this.lists.fill(); // (rare: APPEND after APPENDS on one list)
          if (Array.isArray(target) && !(target instanceof Tuple)) target.push(stack[sp - 1]);
          else this.appendItems(target, stack, sp - 1, sp, opPos, code);
          sp--;
          break;
        }
        case 0x73: // SETITEM
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          if (Array.isArray(stack[sp - 3])) this.lists.fill(); // (a list's real length)
          this.setItems(stack[sp - 3], stack, sp - 3, sp - 2, sp, opPos, code);
          sp -= 2;
          break;
        case 0x95: // FRAME
          this.loadFrame(pos, opPos, code);
          pos += 8;
          break;
        case 0x80: {
          // PROTO
          if (pos >= len) throw this.truncated(opPos, code);
          const p = data[pos++] as number;
          if (p > 5) throw this.fail(`unsupported pickle protocol: ${p}`, opPos, code, 'unsupported');
          this.protocol = p;
          break;
        }
        case 0x2e: {
          // STOP
          if (sp <= fence) throw this.underflow(opPos, code);
          // The loop checks limits every 4096 opcodes; check once more so short pickles obey them too.
          this.checkLimits(sp, memoCount, ops, opPos, code);
          this.lists.fill();
          const value = stack[sp - 1];
          stack.length = 0;
          const upgraded = this.upgraded;
          this.memo = [];
          this.memoIndex = undefined;
          this.upgraded = undefined;
          this.pos = pos;
          return { value: upgraded ? fixUpgraded(value, upgraded) : value, end: this.base + pos };
        }

        // ---- stack manipulation
        case 0x30: // POP
          if (sp > fence) sp--;
          else if (marks.length > 0) {
            // POP with only a mark above: CPython pops the mark.
            sp = marks.pop() as number;
            fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          } else throw this.underflow(opPos, code);
          break;
        case 0x31: {
          // POP_MARK
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          sp = m;
          break;
        }
        case 0x32: // DUP
          if (sp <= fence) throw this.underflow(opPos, code);
          // (Read first: in `stack[sp++] = stack[sp - 1]` the index expression runs before the value.)
          if (stack[sp - 1] === fresh) fresh = undefined;
          stack[sp] = this.handed(stack[sp - 1]);
          sp++;
          break;

        // ---- atoms
        case 0x4e: // NONE
          stack[sp++] = null;
          break;
        case 0x88: // NEWTRUE
          stack[sp++] = true;
          break;
        case 0x89: // NEWFALSE
          stack[sp++] = false;
          break;
        case 0x8b: {
          // LONG4
          if (4 > len - pos) throw this.truncated(opPos, code);
          const n = view.getInt32(pos, true);
          if (n < 0) throw this.fail('LONG pickle has negative byte count', opPos, code, 'invalid-value');
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 4) {
            if (!this.more(opPos, pos + 4 + n)) throw this.truncated(opPos, code);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 4;
          stack[sp++] = decodeLong(data, view, pos, n, lossless);
          pos += n;
          break;
        }

        // ---- strings and bytes
        case 0x58: {
          // BINUNICODE
          if (4 > len - pos) throw this.truncated(opPos, code);
          const n = view.getUint32(pos, true);
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 4) {
            if (!this.more(opPos, pos + 4 + n))
              throw this.truncated(opPos, code, ` (need ${n} bytes, ${this.remaining(pos + 4)} left)`);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 4;
          stack[sp++] = this.str(pos, pos + n, opPos, code);
          pos += n;
          break;
        }
        case 0x8d: {
          // BINUNICODE8
          const n = this.length8(pos, opPos, code);
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 8) {
            if (!this.more(opPos, pos + 8 + n))
              throw this.truncated(opPos, code, ` (need ${n} bytes, ${this.remaining(pos + 8)} left)`);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 8;
          stack[sp++] = this.str(pos, pos + n, opPos, code);
          pos += n;
          break;
        }
        case 0x43: {
          // SHORT_BINBYTES
          if (pos >= len) throw this.truncated(opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = windowed ? data.slice(pos, pos + n) : data.subarray(pos, pos + n);
          pos += n;
          break;
        }
        case 0x42: {
          // BINBYTES
          if (4 > len - pos) throw this.truncated(opPos, code);
          const n = view.getUint32(pos, true);
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 4) {
            if (!this.more(opPos, pos + 4 + n))
              throw this.truncated(opPos, code, ` (need ${n} bytes, ${this.remaining(pos + 4)} left)`);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 4;
          stack[sp++] = windowed ? this.bytesAt(pos, n) : data.subarray(pos, pos + n);
          pos += n;
          break;
        }
        case 0x8e: // BINBYTES8
        case 0x96: {
          // BYTEARRAY8
          const n = this.length8(pos, opPos, code);
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 8) {
            if (!this.more(opPos, pos + 8 + n))
              throw this.truncated(opPos, code, ` (need ${n} bytes, ${this.remaining(pos + 8)} left)`);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 8;
          const b = windowed ? this.bytesAt(pos, n) : data.subarray(pos, pos + n);
          stack[sp++] = code === 0x8e ? b : new ByteArray(b.buffer as ArrayBuffer, b.byteOffset, n);
          pos += n;
          break;
        }
        case 0x55: {
          // SHORT_BINSTRING
          if (pos >= len) throw this.truncated(opPos, code);
          const n = data[pos++] as number;
          if (n > len - pos) throw this.truncated(opPos, code);
          stack[sp++] = this.py2string(
            windowed ? data.slice(pos, pos + n) : data.subarray(pos, pos + n),
            opPos,
            code,
          );
          pos += n;
          break;
        }
        case 0x54: {
          // BINSTRING
          if (4 > len - pos) throw this.truncated(opPos, code);
          const n = view.getInt32(pos, true);
          if (n < 0)
            throw this.fail('BINSTRING pickle has negative byte count', opPos, code, 'invalid-value');
          this.checkLimit(n, opPos, code);
          if (n > len - pos - 4) {
            if (!this.more(opPos, pos + 4 + n))
              throw this.truncated(opPos, code, ` (need ${n} bytes, ${this.remaining(pos + 4)} left)`);
            data = this.data;
            view = this.view;
            len = data.length;
            refillAt = this.refillAt;
            pos = this.pos;
            continue;
          }
          pos += 4;
          stack[sp++] = this.py2string(
            windowed ? this.bytesAt(pos, n) : data.subarray(pos, pos + n),
            opPos,
            code,
          );
          pos += n;
          break;
        }

        // ---- containers
        case 0x29: // EMPTY_TUPLE
          stack[sp++] = new Tuple();
          break;
        case 0x8f: // EMPTY_SET
          stack[sp++] = new Set();
          break;
        case 0x85: {
          // TUPLE1
          if (sp <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(1); // exact size, index stores (see Tuple.from_)
          t[0] = stack[sp - 1];
          stack[sp - 1] = t;
          break;
        }
        case 0x86: {
          // TUPLE2
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(2);
          t[0] = stack[sp - 2];
          t[1] = stack[sp - 1];
          sp--;
          stack[sp - 1] = t;
          break;
        }
        case 0x87: {
          // TUPLE3
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          const t = Tuple.sized(3);
          t[0] = stack[sp - 3];
          t[1] = stack[sp - 2];
          t[2] = stack[sp - 1];
          sp -= 2;
          stack[sp - 1] = t;
          break;
        }
        case 0x74: // TUPLE
        case 0x6c: // LIST
        case 0x64: // DICT
        case 0x91: {
          // FROZENSET
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (code === 0x64) {
            const d = this.dictFromSlice(stack, m, sp, opPos, code);
            sp = m;
            stack[sp++] = d;
          } else {
            const items = stack.slice(m, sp);
            sp = m;
            if (code === 0x74) stack[sp++] = Tuple.from_(items);
            else if (code === 0x6c) stack[sp++] = items;
            else {
              for (const x of items)
                if (!isHashable(x))
                  throw this.fail(`unhashable set element: ${describeType(x)}`, opPos, code, 'unhashable');
              stack[sp++] = new FrozenSet(items);
            }
          }
          break;
        }
        case 0x90: {
          // ADDITEMS
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          if (m <= fence) throw this.underflow(opPos, code);
          if (m < sp) this.addItems(stack[m - 1], stack, m, sp, opPos, code); // (none: a no-op, as in CPython)
          sp = m;
          break;
        }

        // ---- memo (rarer forms)
        case 0x72: {
          // LONG_BINPUT
          if (4 > len - pos) throw this.truncated(opPos, code);
          if (sp <= fence) throw this.underflow(opPos, code);
          const idx = view.getUint32(pos, true);
          pos += 4;
          scanAt = -1;
          if (stack[sp - 1] === fresh) fresh = undefined; // (rare: keep the fast path to one-byte indices)
          if (memo[idx] === undefined) memoCount++;
          memo[idx] = stack[sp - 1];
          if (this.memoIndex !== undefined) indexMemo(this, stack[sp - 1], idx);
          break;
        }
        case 0x6a: {
          // LONG_BINGET
          if (4 > len - pos) throw this.truncated(opPos, code);
          const idx = view.getUint32(pos, true);
          pos += 4;
          const v = memo[idx];
          if (v === undefined) throw this.fail(`memo value not found at index ${idx}`, opPos, code, 'memo');
          if (v === fresh) fresh = undefined;
          if (idx < gotten.length) gotten[idx] = 1;
          else gotten = markGotten(this, idx, memoCount);
          stack[sp++] = v;
          break;
        }

        // ---- protocol 0 text opcodes (machine.ts reads their lines; the window may move)
        case 0x49: // INT
        case 0x4c: // LONG
        case 0x46: // FLOAT
        case 0x53: // STRING
        case 0x56: {
          // UNICODE
          this.sync(pos, opPos, code);
          const v =
            code === 0x49
              ? this.loadInt(opPos, code)
              : code === 0x4c
                ? this.loadLong(opPos, code)
                : code === 0x46
                  ? this.loadFloat(opPos, code)
                  : code === 0x53
                    ? this.loadString(opPos, code)
                    : this.loadUnicode(opPos, code);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = v;
          break;
        }
        case 0x70: {
          // PUT
          this.sync(pos, opPos, code);
          const idx = this.loadMemoIndex(opPos, code);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          if (sp <= fence) throw this.underflow(this.offset - this.base, code);
          scanAt = -1;
          if (stack[sp - 1] === fresh) {
            if (freshMemo < 0) freshMemo = idx;
            else fresh = undefined;
          }
          if (memo[idx] === undefined) memoCount++;
          memo[idx] = stack[sp - 1];
          if (this.memoIndex !== undefined) indexMemo(this, stack[sp - 1], idx);
          break;
        }
        case 0x67: {
          // GET
          this.sync(pos, opPos, code);
          const idx = this.loadMemoIndex(opPos, code);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          const v = memo[idx];
          if (v === undefined)
            throw this.fail(`memo value not found at index ${idx}`, this.offset - this.base, code, 'memo');
          if (v === fresh) fresh = undefined;
          if (idx < gotten.length) gotten[idx] = 1;
          else gotten = markGotten(this, idx, memoCount);
          stack[sp++] = v;
          break;
        }

        // ---- objects
        case 0x63: {
          // GLOBAL
          this.sync(pos, opPos, code);
          const [module, name] = this.loadGlobalName(opPos, code);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(this.resolveGlobal(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const name = stack[--sp];
          const module = stack[--sp];
          if (typeof name !== 'string' || typeof module !== 'string')
            throw this.fail('STACK_GLOBAL requires str', opPos, code, 'stack');
          this.sync(pos, opPos, code);
          stack[sp++] = this.handed(this.resolveGlobal(module, name));
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: {
          // EXT4
          const size = code === 0x82 ? 1 : code === 0x83 ? 2 : 4;
          if (size > len - pos) throw this.truncated(opPos, code);
          const ext =
            size === 1
              ? (data[pos] as number)
              : size === 2
                ? view.getUint16(pos, true)
                : view.getInt32(pos, true);
          pos += size;
          this.sync(pos, opPos, code);
          stack[sp++] = this.handed(this.loadExt(ext, opPos, code));
          break;
        }
        case 0x52: {
          // REDUCE
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const args = stack[--sp];
          const callable = stack[--sp];
          if (!(args instanceof Tuple))
            throw this.fail(
              `REDUCE arguments must be a tuple, got ${describeType(args)}`,
              opPos,
              code,
              'stack',
            );
          this.sync(pos, opPos, code);
          fresh = undefined; // a handler may return (or keep) a list it was given
          const r = this.call(callable, args, 'reduce');
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x81: {
          // NEWOBJ
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const args = stack[--sp];
          const cls = stack[--sp];
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.construct(cls, args, undefined, false);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          if (sp - 2 <= fence) throw this.underflow(opPos, code);
          const kwargs = stack[--sp];
          const args = stack[--sp];
          const cls = stack[--sp];
          let kw: Map<unknown, unknown>;
          if (kwargs instanceof Map) kw = kwargs;
          else if (isPlainObject(kwargs)) kw = new Map(Object.entries(kwargs));
          else
            throw this.fail(
              `NEWOBJ_EX kwargs must be a dict, got ${describeType(kwargs)}`,
              opPos,
              code,
              'stack',
            );
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.construct(cls, args, kw, true);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x69: {
          // INST
          this.sync(pos, opPos, code);
          const [module, name] = this.loadGlobalName(opPos, code);
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', this.offset - this.base, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          const args = Tuple.from_(stack.slice(m, sp));
          sp = m;
          fresh = undefined;
          const r = this.call(this.resolveGlobal(module, name), args, 'inst');
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x6f: {
          // OBJ
          const m = marks.pop();
          if (m === undefined) throw this.fail('could not find MARK', opPos, code, 'stack');
          fence = marks.length > 0 ? (marks[marks.length - 1] as number) : 0;
          const items = stack.slice(m, sp);
          sp = m;
          if (items.length === 0) throw this.fail('OBJ needs a class', opPos, code, 'stack');
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.call(items[0], Tuple.from_(items.slice(1)), 'obj');
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(r);
          break;
        }
        case 0x62: {
          // BUILD
          if (sp - 1 <= fence) throw this.underflow(opPos, code);
          const state = stack[--sp];
          this.sync(pos, opPos, code);
          fresh = undefined;
          const r = this.build(stack[sp - 1], state);
          // (joblib reads its array payload here: the window may have moved)
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp - 1] = this.handed(r);
          break;
        }
        case 0x50: {
          // PERSID
          this.sync(pos, opPos, code);
          fresh = undefined;
          const v = this.loadPersid(opPos, code);
          data = this.data;
          view = this.view;
          len = data.length;
          refillAt = this.refillAt;
          pos = this.pos;
          stack[sp++] = this.handed(v);
          break;
        }
        case 0x51: {
          // BINPERSID
          if (sp <= fence) throw this.underflow(opPos, code);
          this.sync(pos, opPos, code);
          fresh = undefined;
          stack[sp - 1] = this.handed(this.persistent(stack[sp - 1], opPos, code));
          break;
        }
        case 0x97: // NEXT_BUFFER
          stack[sp++] = this.loadNextBuffer(opPos, code);
          break;
        case 0x98: // READONLY_BUFFER
          if (sp <= fence) throw this.underflow(opPos, code);
          stack[sp - 1] = this.loadReadonlyBuffer(stack[sp - 1], opPos, code);
          break;
        default:
          throw this.invalidKey(opPos, code);
      }
    }
  }
}

/** SHORT_BINUNICODE payloads: decode, turning a TextError into an UnpicklingError at the opcode. */
function decodeUtf8Or(data: Uint8Array, start: number, end: number, offset: number, code: number): string {
  try {
    return decodeUtf8(data, start, end);
  } catch (e) {
    if (e instanceof TextError)
      throw new UnpicklingError(
        `invalid UTF-8 in str: ${e.message}`,
        offset,
        opcodeName(code),
        'invalid-value',
      );
    throw e;
  }
}

/**
 * One Machine (with its options object) kept alive for the life of the module. The optimised loop
 * embeds the hidden classes of these objects; when no instance survives between two calls a full GC
 * frees those classes and V8 throws the compiled loop away (measured: a 65-250 ms recompile after
 * every major GC, bench/deopt-check.mjs). An anchor costs a few hundred bytes.
 */
export const MACHINE_ANCHOR: Machine = new Machine(
  new Uint8Array(0),
  resolveOptions(undefined, new FamilySet([])),
);

/** Two's-complement little-endian integer of n bytes (LONG1/LONG4). */
function decodeLong(
  data: Uint8Array,
  view: DataView,
  start: number,
  n: number,
  lossless: boolean,
): number | bigint {
  if (n === 0) return lossless ? 0n : 0;
  if (n <= 8) {
    // Two 32-bit halves in doubles: exact, and no BigInt unless the value needs one.
    const nlo = n < 4 ? n : 4;
    let lo = 0;
    for (let i = nlo - 1; i >= 0; i--) lo = lo * 256 + (data[start + i] as number);
    let hi = 0;
    for (let i = n - 1; i >= 4; i--) hi = hi * 256 + (data[start + i] as number);
    const negative = ((data[start + n - 1] as number) & 0x80) !== 0;
    if (n <= 4) {
      if (negative) lo -= 2 ** (8 * n);
      return lossless ? BigInt(lo) : lo;
    }
    if (negative) hi -= 2 ** (8 * (n - 4));
    if (!lossless && hi >= -0x200000 && hi < 0x200000) {
      const v = hi * 0x100000000 + lo; // exact in this range; -2**53 itself is not "safe"
      if (Number.isSafeInteger(v)) return v;
    }
    // Full 8 bytes: one DataView read beats composing two BigInts (bench/micro.mjs: ~6x).
    if (n === 8) return view.getBigInt64(start, true);
    return (BigInt(hi) << 32n) + BigInt(lo);
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += HEX[data[start + i] as number];
  let v = BigInt('0x' + hex);
  if ((data[start + n - 1] as number) & 0x80) v -= 1n << BigInt(8 * n);
  if (!lossless && v >= MIN_SAFE && v <= MAX_SAFE) return Number(v);
  return v;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
