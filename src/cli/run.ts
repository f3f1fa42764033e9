/** Turning argv into a plan (command, parsed options) and running a plan against an Io. */
import { readFileSync } from 'node:fs';
import { parseArgs, flag, UsageError, type Parsed } from './args.js';
import { COMMANDS, GLOBAL_OPTIONS, type Command, type Io } from './specs.js';
import { HELP, TOOL_HELP } from './help.js';

export type Plan =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'run'; readonly command: Command; readonly parsed: Parsed; readonly global: Parsed };

/** The package version (package.json next to dist/ or src/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Parse the command line. Throws UsageError. */
export function plan(argv: readonly string[]): Plan {
  // Options before the command name are tool-level options.
  let k = 0;
  while (k < argv.length && (argv[k] as string).startsWith('-') && argv[k] !== '-' && argv[k] !== '--') k++;
  const global = parseArgs(argv.slice(0, k), GLOBAL_OPTIONS, '');
  if (flag(global, 'version')) return { kind: 'text', text: `picklejar ${version()}\n` };
  const name = argv[k];
  if (flag(global, 'help') || name === 'help') {
    const topic = name === 'help' ? argv[k + 1] : undefined;
    if (topic !== undefined && HELP[topic] !== undefined)
      return { kind: 'text', text: HELP[topic] as string };
    return { kind: 'text', text: TOOL_HELP };
  }
  if (name === undefined)
    throw new UsageError('picklejar: missing command (show, json, dis, scan or convert)');
  const command = COMMANDS.get(name);
  if (!command)
    throw new UsageError(
      `picklejar: unknown command ${JSON.stringify(name)} (commands: ${[...COMMANDS.keys()].join(', ')})`,
    );
  const parsed = parseArgs(argv.slice(k + 1), [...command.options, ...GLOBAL_OPTIONS], name);
  if (flag(parsed, 'help')) return { kind: 'text', text: HELP[name] as string };
  if (flag(parsed, 'version')) return { kind: 'text', text: `picklejar ${version()}\n` };
  const [min, max] = command.operands;
  const n = parsed.operands.length;
  if (n < min) {
    const what = name === 'convert' ? (n === 0 ? 'IN and OUT' : 'OUT') : 'FILE';
    throw new UsageError(`picklejar ${name}: missing ${what}`, name);
  }
  if (n > max)
    throw new UsageError(
      `picklejar ${name}: unexpected argument ${JSON.stringify(parsed.operands[max])}`,
      name,
    );
  return { kind: 'run', command, parsed, global };
}

/** A flag given before or after the command name. */
export function anyFlag(p: Extract<Plan, { kind: 'run' }>, name: string): boolean {
  return flag(p.global, name) || flag(p.parsed, name);
}

/** Run a command; errors become one stderr line (stack with --debug) and an exit status. */
export async function execute(p: Extract<Plan, { kind: 'run' }>, io: Io): Promise<number> {
  // Loaded here, not at the top: --help, --version and usage errors never load the library.
  const { RUNNERS } = await import('./commands/index.js');
  try {
    const runner = await (
      RUNNERS.get(p.command.name) as () => Promise<{ run(p: Parsed, io: Io): Promise<number> }>
    )();
    return await runner.run(p.parsed, io);
  } catch (e) {
    const { errorReport } = await import('./report.js');
    const { code, message } = errorReport(e, io.debug);
    io.err(message);
    return code;
  }
}
