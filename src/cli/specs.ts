/** What each command accepts (options, operands, which operands are inputs) and the Io type. */
import type { OptionSpec } from './args.js';
import type { Style } from './style.js';

/** Where a command's output goes. */
export interface Io {
  /** stdout. */
  out(chunk: string | Uint8Array): void;
  /** One line to stderr (no trailing newline). */
  err(line: string): void;
  /** Progress text (shown only when a progress indicator runs). */
  status(text: string): void;
  /** The whole of stdin (read at most once). */
  stdin(): Promise<Uint8Array>;
  readonly stdoutIsTTY: boolean;
  /** The terminal's width when stdout is a terminal. */
  readonly columns: number | undefined;
  readonly style: Style;
  readonly debug: boolean;
}

export interface Command {
  readonly name: string;
  readonly options: readonly OptionSpec[];
  /** Operand count: [min, max]. */
  readonly operands: readonly [number, number];
  /** Which operands are inputs (for stdin detection and progress sizing). */
  inputs(operands: readonly string[]): string[];
}

/** Options every command accepts (handled by main; listed so the parser knows them). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', type: 'flag' },
  { name: 'version', short: 'V', type: 'flag' },
  { name: 'debug', type: 'flag' },
  { name: 'color', type: 'flag' },
  { name: 'no-color', type: 'flag' },
  { name: 'progress', type: 'flag' },
  { name: 'no-progress', type: 'flag' },
];

export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  (
    [
      {
        name: 'show',
        options: [
          { name: 'depth', type: 'int', min: 0, max: 1_000_000 },
          { name: 'items', type: 'int', min: 0, max: 1_000_000 },
          { name: 'width', type: 'int', min: 0, max: 100_000 },
          { name: 'lossless', type: 'flag' },
          { name: 'inert', type: 'flag' },
          { name: 'all', type: 'flag' },
          { name: 'encoding', type: 'string' },
          { name: 'lazy', type: 'flag' },
          { name: 'no-lazy', type: 'flag' },
        ],
        operands: [1, 1],
        inputs: (ops) => [ops[0] as string],
      },
      {
        name: 'json',
        options: [
          { name: 'jsonpickle', type: 'flag' },
          { name: 'tagged', type: 'flag' },
          { name: 'nan', type: 'string' },
          { name: 'big-ints', type: 'string' },
          { name: 'indent', type: 'int', min: 0, max: 10 },
          { name: 'depth', type: 'int', min: 0, max: 1_000_000 },
          { name: 'array-items', type: 'string' },
          { name: 'inert', type: 'flag' },
          { name: 'encoding', type: 'string' },
          { name: 'lazy', type: 'flag' },
          { name: 'no-lazy', type: 'flag' },
        ],
        operands: [1, 1],
        inputs: (ops) => [ops[0] as string],
      },
      {
        name: 'dis',
        options: [
          { name: 'annotate', short: 'a', type: 'flag' },
          { name: 'indentlevel', short: 'l', type: 'int', min: 0, max: 64 },
          { name: 'all', type: 'flag' },
          { name: 'pickletools', type: 'flag' },
        ],
        operands: [1, 1],
        inputs: (ops) => [ops[0] as string],
      },
      {
        name: 'scan',
        options: [
          { name: 'json', type: 'flag' },
          { name: 'strict', type: 'flag' },
          { name: 'quiet', short: 'q', type: 'flag' },
        ],
        operands: [1, Infinity],
        inputs: (ops) => [...ops],
      },
      {
        name: 'convert',
        options: [
          { name: 'to', type: 'string' },
          { name: 'protocol', type: 'int', min: 0, max: 5 },
          { name: 'compress', type: 'string' },
          { name: 'encoding', type: 'string' },
        ],
        operands: [2, 2],
        inputs: (ops) => [ops[0] as string],
      },
    ] as Command[]
  ).map((c) => [c.name, c]),
);
