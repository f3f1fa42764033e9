/**
 * A small command-line parser: long options (`--name`, `--name=value`, `--name value`), short aliases
 * (`-x`, `-x value`), `--` to end options, and `-` as an ordinary operand (stdin/stdout).
 */

/** A usage error: reported in one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose --help to point at ('' for the tool itself). */
    readonly command = '',
  ) {
    super(message);
  }
}

export interface OptionSpec {
  /** Long name without dashes. */
  readonly name: string;
  /** One-letter alias without the dash. */
  readonly short?: string;
  /** 'flag' takes no value; 'string' / 'int' take one. */
  readonly type: 'flag' | 'string' | 'int';
  /** For 'int': smallest and largest accepted values. */
  readonly min?: number;
  readonly max?: number;
  /** May be given several times (values collected in order). */
  readonly repeat?: boolean;
}

export type OptionValue = boolean | string | number | string[];

export interface Parsed {
  readonly options: Map<string, OptionValue>;
  readonly operands: string[];
}

/**
 * Parse `argv` against `specs`. Flags named `no-X` are accepted when `X` is a flag only if they
 * are listed themselves. Throws UsageError.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const options = new Map<string, OptionValue>();
  const operands: string[] = [];
  const where = command ? `picklejar ${command}` : 'picklejar';

  const setValue = (spec: OptionSpec, raw: string | undefined, shown: string): void => {
    if (spec.type === 'flag') {
      if (raw !== undefined) throw new UsageError(`${where}: option ${shown} takes no value`, command);
      options.set(spec.name, true);
      return;
    }
    if (raw === undefined) throw new UsageError(`${where}: option ${shown} needs a value`, command);
    let value: string | number = raw;
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(raw))
        throw new UsageError(
          `${where}: option ${shown} needs an integer, got ${JSON.stringify(raw)}`,
          command,
        );
      const n = Number(raw);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        const range = spec.max !== undefined ? `${spec.min ?? '-∞'}-${spec.max}` : `>= ${spec.min}`;
        throw new UsageError(`${where}: option ${shown} must be ${range}, got ${raw}`, command);
      }
      value = n;
    }
    if (spec.repeat) {
      const prev = options.get(spec.name);
      options.set(spec.name, [...(Array.isArray(prev) ? prev : []), String(value)]);
    } else {
      options.set(spec.name, value);
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`${where}: unknown option --${name}`, command);
      let raw = eq < 0 ? undefined : arg.slice(eq + 1);
      if (raw === undefined && spec.type !== 'flag') {
        if (i + 1 >= argv.length) throw new UsageError(`${where}: option --${name} needs a value`, command);
        raw = argv[++i];
      }
      setValue(spec, raw, `--${name}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Bundled short flags (-ab) or a short option with its value attached (-l2) or following (-l 2).
      for (let k = 1; k < arg.length; k++) {
        const ch = arg[k] as string;
        const spec = byShort.get(ch);
        if (!spec) throw new UsageError(`${where}: unknown option -${ch}`, command);
        if (spec.type === 'flag') {
          setValue(spec, undefined, `-${ch}`);
          continue;
        }
        let raw: string | undefined = arg.slice(k + 1);
        if (raw === '') {
          if (i + 1 >= argv.length) throw new UsageError(`${where}: option -${ch} needs a value`, command);
          raw = argv[++i];
        }
        setValue(spec, raw, `-${ch}`);
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { options, operands };
}

/** Typed accessors over a Parsed result. */
export function flag(p: Parsed, name: string): boolean {
  return p.options.get(name) === true;
}

export function intOption(p: Parsed, name: string, fallback: number): number {
  const v = p.options.get(name);
  return typeof v === 'number' ? v : fallback;
}

export function stringOption(p: Parsed, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** One line for a usage error, pointing at the help that explains the command. */
export function usageMessage(e: UsageError): string {
  return e.message + (e.command ? ` (see picklejar ${e.command} --help)` : ' (see picklejar --help)');
}
