/**
 * A disassembler whose output is the text `python -m pickletools FILE` prints (CPython 3.11's
 * `pickletools.dis` with default arguments), byte for byte, including its sanity checks on marks,
 * the memo and the stack.
 */
import { UnpicklingError } from '../errors.js';
import type { OpcodeInfo, StackItem } from '../opcodes.js';
import { baseMessage, readOp, type GenOp } from './genops.js';
import {
  ReprError,
  reprByteArray,
  reprBytes,
  reprCodePoints,
  reprFloat,
  reprInt,
  reprStr,
} from './pyrepr.js';

export interface DisassembleOptions {
  /**
   * Like pickletools' `annotate`: when non-zero, append a one-line description of each opcode,
   * aligned near this column (the CLI's `-a` uses 30). The layout follows pickletools; the
   * descriptions are picklejar's own wording, so annotated text differs from Python's.
   */
  readonly annotate?: number;
  /** Blanks per open MARK (pickletools' `indentlevel`, default 4). */
  readonly indentLevel?: number;
  /**
   * `python -m pickletools FILE` shows only the first pickle of a file. With `all: true`, every
   * pickle in the buffer is disassembled in turn (each with a fresh memo, offsets counted from the
   * start of the buffer), as repeated `pickletools.dis(f)` calls on one open file print them.
   */
  readonly all?: boolean;
}

/**
 * A stream pickletools itself would reject. `output` holds the text pickletools prints before it
 * raises (the offending opcode's line included when pickletools prints it first);
 * `pythonMessage` is the text of the ValueError it raises.
 */
export class DisassemblyError extends UnpicklingError {
  override name = 'DisassemblyError';
  readonly output: string;
  readonly pythonMessage: string;
  constructor(pythonMessage: string, output: string, offset: number, opcode?: string) {
    super(pythonMessage, offset, opcode);
    this.pythonMessage = pythonMessage;
    this.output = output;
  }
}

/** The opcode column: Python's `repr(opcode.code)[1:-1]`, e.g. `(` or `\x80`. */
function codeRepr(code: number): string {
  return reprStr(String.fromCharCode(code)).slice(1, -1);
}

/** Python `repr()` of a decoded argument, by the argument's kind. */
function reprArg(op: OpcodeInfo, arg: unknown, codePoints?: readonly number[]): string {
  if (codePoints !== undefined) return reprCodePoints(codePoints);
  if (typeof arg === 'boolean') return arg ? 'True' : 'False';
  switch (op.arg) {
    case 'float8':
    case 'floatnl':
      return reprFloat(arg as number);
    case 'bytes1':
    case 'bytes4':
    case 'bytes8':
      return reprBytes(arg as Uint8Array);
    case 'bytearray8':
      return reprByteArray(arg as Uint8Array);
    default:
      if (typeof arg === 'string') return reprStr(arg);
      if (typeof arg === 'number' || typeof arg === 'bigint') return reprInt(arg);
      return String(arg);
  }
}

/** Python's repr of a memo key (an int, or a bool from `PUT 00`/`PUT 01`; None for MEMOIZE). */
function reprKey(arg: unknown): string {
  if (arg === undefined) return 'None';
  if (typeof arg === 'boolean') return arg ? 'True' : 'False';
  return String(arg);
}

/** Python dict key equality: True == 1, False == 0 (huge text indices stay exact as strings). */
function memoKey(arg: unknown): number | string {
  if (typeof arg === 'boolean') return arg ? 1 : 0;
  if (typeof arg === 'number') return arg;
  const n = Number(arg);
  return Number.isSafeInteger(n) ? n : String(arg);
}

const MARK: StackItem = 'mark';

/** Code points, as Python's len() counts them (only used to align annotations). */
function pyLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const v = s.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Where the disassembler reads opcodes: bytes in memory, or a file read in pieces (dis-joblib.ts).
 * Offsets are absolute; `readOp` throws UnpicklingError as genops' readOp does.
 */
export interface OpReader {
  /** Bytes in the stream. */
  readonly length: number;
  readOp(pos: number): GenOp;
  /** `n` raw bytes at `pos` (fewer at the end of the stream). */
  bytes(pos: number, n: number): Uint8Array;
}

/** Opcodes straight from bytes in memory. */
export function memoryReader(data: Uint8Array): OpReader {
  return {
    length: data.length,
    readOp: (pos) => readOp(data, pos),
    bytes: (pos, n) => data.subarray(pos, pos + n),
  };
}

/**
 * What happens after an opcode beyond pickletools' listing: joblib puts array data after some BUILDs.
 * `lines` are printed after the opcode's line; the listing resumes at `resume`, or, with `nested`,
 * lists the pickle that starts at `nested` (with its own memo) and resumes after its STOP.
 */
export type AfterOp =
  { readonly lines: string; readonly resume: number } | { readonly lines: string; readonly nested: number };

/** Watches the opcodes of one pickle (a fresh one per pickle, as the memo is). */
export interface OpWatcher {
  after(item: GenOp, reader: OpReader): AfterOp | undefined;
}

/** Settings of one listing. */
interface DisSettings {
  readonly indentLevel: number;
  readonly annotate: number;
  readonly watcher?: () => OpWatcher;
}

/**
 * Disassemble one pickle starting at `start`, handing text to `write` in pieces. Returns the offset
 * after its STOP. Throws DisassemblyError where pickletools raises; its `output` holds the text not
 * yet handed to `write` (the offending line's start included when pickletools prints it).
 */
function disOne(
  reader: OpReader,
  start: number,
  write: (text: string) => void,
  settings: DisSettings,
  nested = false,
): number {
  const { indentLevel, annotate } = settings;
  const watcher = nested ? undefined : settings.watcher?.();
  const stack: StackItem[] = [];
  const memo = new Map<number | string, StackItem>();
  const markstack: number[] = [];
  const indentChunk = ' '.repeat(indentLevel);
  let maxProto = -1;
  let annocol = annotate;
  let pos = start;
  // Lines are gathered in chunks (millions of tiny strings would keep the GC busy).
  let chunk = '';
  let prefix = '';
  const emit = (text: string): void => {
    chunk += text;
    if (chunk.length > 1 << 16) {
      write(flat(chunk));
      chunk = '';
    }
  };
  const fail = (message: string, offset: number, opcode?: string): never => {
    throw new DisassemblyError(message, chunk + prefix, offset, opcode);
  };
  for (;;) {
    let item: GenOp;
    try {
      item = reader.readOp(pos);
    } catch (e) {
      if (e instanceof UnpicklingError) fail(baseMessage(e), e.offset, e.opcode);
      throw e;
    }
    const { op, arg } = item;
    // Python prints the offset column first, so it shows even when the line then fails.
    prefix = `${String(item.pos).padStart(5)}: `;
    let line = codeRepr(op.code).padEnd(4) + ' ' + indentChunk.repeat(markstack.length) + op.name;
    maxProto = Math.max(maxProto, op.proto);
    const before = op.before;
    let after: readonly StackItem[] = op.after;
    let numToPop = before.length;
    let markMsg: string | undefined;
    let errorMsg: string | undefined;

    if (
      before.includes(MARK) ||
      (op.name === 'POP' && stack.length > 0 && stack[stack.length - 1] === MARK)
    ) {
      const markPos = markstack.pop();
      if (markPos !== undefined) {
        markMsg = `(MARK at ${markPos})`;
        // Pop everything at and after the topmost mark (IndexError in Python when none is left).
        for (;;) {
          const top = stack.pop();
          if (top === undefined) fail('list index out of range', item.pos, op.name);
          if (top === MARK) break;
        }
        const idx = before.indexOf(MARK);
        numToPop = idx >= 0 ? idx : 0;
      } else {
        errorMsg = markMsg = 'no MARK exists on stack';
      }
    }

    if (op.name === 'PUT' || op.name === 'BINPUT' || op.name === 'LONG_BINPUT' || op.name === 'MEMOIZE') {
      let key: number | string;
      if (op.name === 'MEMOIZE') {
        key = memo.size;
        markMsg = `(as ${memo.size})`;
      } else {
        key = memoKey(arg);
      }
      if (memo.has(key)) errorMsg = `memo key ${reprKey(arg)} already defined`;
      else if (stack.length === 0) errorMsg = "stack is empty -- can't store into memo";
      else if (stack[stack.length - 1] === MARK) errorMsg = "can't store markobject in the memo";
      else memo.set(key, stack[stack.length - 1] as StackItem);
    } else if (op.name === 'GET' || op.name === 'BINGET' || op.name === 'LONG_BINGET') {
      const v = memo.get(memoKey(arg));
      if (v !== undefined) after = [v];
      else errorMsg = `memo key ${reprKey(arg)} has never been stored into`;
    }

    if (arg !== undefined || markMsg !== undefined) {
      line += ' '.repeat(Math.max(0, 10 - op.name.length));
      if (arg !== undefined) {
        try {
          line += ' ' + reprArg(op, arg, item.codePoints);
        } catch (e) {
          if (e instanceof ReprError) fail(e.message, item.pos, op.name);
          throw e;
        }
      }
      if (markMsg !== undefined) line += ' ' + markMsg;
    }
    if (annotate) {
      line += ' '.repeat(Math.max(0, annocol - pyLen(line)));
      annocol = pyLen(line);
      if (annocol > 50) annocol = annotate;
      line += ' ' + (op.doc.split('\n', 1)[0] as string);
    }
    emit(prefix + line + '\n');
    prefix = '';

    // pickletools complains only after printing the offending line.
    if (errorMsg !== undefined) fail(errorMsg, item.pos, op.name);
    if (stack.length < numToPop) {
      fail(`tries to pop ${numToPop} items from stack with only ${stack.length} items`, item.pos, op.name);
    }
    if (numToPop) stack.length -= numToPop;
    if (after.includes(MARK)) markstack.push(item.pos);
    stack.push(...after);

    pos = item.end;
    if (op.name === 'STOP') break;
    let extra: AfterOp | undefined;
    try {
      extra = watcher?.after(item, reader);
    } catch (e) {
      if (e instanceof UnpicklingError) fail(baseMessage(e), e.offset, e.opcode);
      throw e;
    }
    if (extra !== undefined) {
      emit(extra.lines);
      if ('resume' in extra) pos = extra.resume;
      else {
        write(chunk);
        chunk = '';
        pos = disOne(reader, extra.nested, write, settings, true);
      }
    }
  }
  if (!nested) emit(`highest protocol among opcodes = ${maxProto}\n`);
  write(chunk);
  chunk = '';
  if (stack.length > 0) fail(`stack not empty after STOP: [${stack.join(', ')}]`, pos - 1, 'STOP');
  return pos;
}

/**
 * The listing of the pickle(s) `reader` holds, handed to `write` in pieces as it is produced. Used by
 * `disassemble` and by the joblib-aware streaming listing (dis-joblib.ts). Throws DisassemblyError
 * whose `output` is the text not yet written.
 */
export function disassembleTo(
  reader: OpReader,
  options: DisassembleOptions,
  write: (text: string) => void,
  watcher?: () => OpWatcher,
): void {
  const settings: DisSettings = {
    indentLevel: options.indentLevel ?? 4,
    annotate: options.annotate ?? 0,
    ...(watcher ? { watcher } : {}),
  };
  let pos = disOne(reader, 0, write, settings);
  if (options.all) {
    while (pos < reader.length) pos = disOne(reader, pos, write, settings);
  }
}

/**
 * The text `python -m pickletools FILE` prints for a file holding `data`: the first pickle only
 * (pass `all: true` for every pickle in the buffer). Throws DisassemblyError where pickletools
 * raises; the error's `output` is what Python prints before its traceback.
 * @example
 * disassemble(new Uint8Array([0x80, 0x04, 0x4b, 0x2a, 0x2e]));
 * // '    0: \\x80 PROTO      4\n    2: K    BININT1    42\n    4: .    STOP\nhighest protocol among opcodes = 4\n'
 */
export function disassemble(data: Uint8Array, options: DisassembleOptions = {}): string {
  const out: string[] = [];
  try {
    disassembleTo(memoryReader(data), options, (t) => out.push(t));
  } catch (e) {
    if (e instanceof DisassemblyError)
      throw new DisassemblyError(e.pythonMessage, out.join('') + e.output, e.offset, e.opcode);
    throw e;
  }
  return out.join('');
}

/** The same string, flattened (ropes of many small lines are costly for the GC to keep). */
function flat(s: string): string {
  // Reading a character makes V8 flatten the rope in place.
  void s.charCodeAt(s.length >> 1);
  return s;
}
