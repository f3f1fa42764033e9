/** What an error thrown by a command becomes: an exit status and one stderr line. */
import { DisassemblyError } from '../tools/dis.js';
import { PickleError, PicklingError, UnpicklingError } from '../errors.js';
import { UsageError, usageMessage } from './args.js';
import { InputError } from './read.js';

/** A failure to write the output (exit status 1). */
export class OutputError extends Error {
  override name = 'OutputError';
}

/**
 * Exit status and one-line message for an error thrown by a command (the stack follows with --debug):
 * 2 usage, 3 unreadable input, 1 anything else (a value that cannot be written, an unwritable output).
 */
export function errorReport(e: unknown, debug: boolean): { code: number; message: string } {
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
  let code: number;
  let message: string;
  if (e instanceof UsageError) {
    code = 2;
    message = usageMessage(e);
  } else if (e instanceof InputError) {
    code = 3;
    message = `picklejar: ${e.message}`;
  } else if (e instanceof DisassemblyError) {
    code = 3;
    message = e.pythonMessage.includes(String(e.offset))
      ? `picklejar: ${e.pythonMessage}`
      : `picklejar: ${e.pythonMessage} (at byte ${e.offset})`;
  } else if (e instanceof UnpicklingError) {
    code = 3;
    // The library's hint names the API option; on the command line it is --inert.
    message = `picklejar: UnpicklingError: ${e.message
      .replace(
        /\(pass dangerousGlobals: 'inert' to decode it as an inert reference\)/,
        '(scan it with `picklejar scan`, or show it with --inert: nothing is executed either way)',
      )
      .replace(
        /need encoding: 'latin1' or 'bytes'/,
        'need --encoding latin1 (str as text) or --encoding bytes (str as bytes)',
      )}`;
  } else if (e instanceof PicklingError) {
    code = 1;
    message = `picklejar: PicklingError: ${e.message}`;
  } else if (e instanceof PickleError) {
    code = 1;
    message = `picklejar: ${e.name}: ${e.message}`;
  } else if (e instanceof OutputError) {
    code = 1;
    message = `picklejar: ${e.message}`;
  } else if (
    e instanceof RangeError &&
    /Invalid (typed )?array length|Array buffer allocation failed|Invalid string length/.test(e.message)
  ) {
    code = 3;
    message = `picklejar: out of memory: ${e.message}`;
  } else {
    code = 1;
    const err = e instanceof Error ? e : new Error(String(e));
    message = `picklejar: ${err.message}${debug ? '' : ' (run with --debug for a stack trace)'}`;
  }
  message = oneLine(message);
  if (debug && e instanceof Error && e.stack) message += '\n' + e.stack;
  return { code, message };
}
