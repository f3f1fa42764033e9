/** `picklejar json`: the plain JSON view (jq-friendly by default, `$`-markers with --tagged) or jsonpickle text. */
import { toJsonPickle } from '../../interop/jsonpickle-write.js';
import { writePlainJson } from '../../interop/jsonview.js';
import { flag, intOption, stringOption, UsageError } from '../args.js';
import { reindentJson } from '../json-format.js';
import { choiceOption, decodeOperand, loadOptions, type Runner } from './common.js';

/** --array-items N or all. */
function arrayItems(text: string | undefined): number {
  if (text === undefined) return 1000;
  if (text === 'all') return Infinity;
  if (/^\d+$/.test(text) && Number(text) <= 2 ** 31) return Number(text);
  throw new UsageError(
    `picklejar json: --array-items must be a count or all, got ${JSON.stringify(text)}`,
    'json',
  );
}

export const json: Runner = {
  async run(p, io) {
    const name = p.operands[0] as string;
    const jp = flag(p, 'jsonpickle');
    const tagged = flag(p, 'tagged');
    const nonFinite = choiceOption(p, 'nan', ['null', 'string', 'literal', 'error'] as const, 'null', 'json');
    const bigInts = choiceOption(p, 'big-ints', ['string', 'number'] as const, 'string', 'json');
    const maxArrayItems = arrayItems(stringOption(p, 'array-items'));
    if (tagged && (p.options.has('nan') || p.options.has('big-ints')))
      throw new UsageError(
        'picklejar json: --tagged writes $float and $int markers; drop --nan and --big-ints',
        'json',
      );
    // Always lossless: a Python float is then a JS number and an int a bigint, so 1.0 stays 1.0.
    const {
      values: [value],
    } = await decodeOperand(name, p, loadOptions(p, true, 'json'), io, 'json');
    io.status(`writing JSON`);
    if (jp) {
      let text = toJsonPickle(value);
      const indent = intOption(p, 'indent', 0);
      if (indent > 0) text = reindentJson(text, indent);
      io.out(text.endsWith('\n') ? text : text + '\n');
      return 0;
    }
    const depth = p.options.get('depth');
    writePlainJson(
      value,
      intOption(p, 'indent', 2),
      {
        ...(typeof depth === 'number' ? { maxDepth: depth } : {}),
        maxArrayItems,
        lossless: true,
        ...(tagged ? { tagged } : { nonFinite, bigInts }),
      },
      (chunk) => io.out(chunk),
    );
    io.out('\n');
    return 0;
  },
};
