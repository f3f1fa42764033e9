/**
 * The built-in reducer families the writer consults for values that are not core data: stdlib
 * value classes (src/python/stdlib.ts) and, when present, numpy (its helper adds its family here).
 */
import { PyGlobal } from '../python/values.js';
import { stdlibReduce, type StdlibReduction } from '../python/stdlib.js';
import { PyName, type Reducer, type ReducerFamily, type Reduction } from './reducers.js';
import { NUMPY_FAMILY } from '../numpy/encode.js';
import { PANDAS_FAMILY } from '../pandas/encode.js';
import { torchReducer, TORCH_SAFE_GLOBALS } from '../torch/reduce.js'; // SHIM, see FAMILIES

/** Adapt the stdlib table's shape to the Reduction interface. */
function fromStdlib(r: StdlibReduction): Reduction {
  const base = new PyGlobal(r.module, r.name);
  // `getattr(cls, attr)` callables (bound methods such as ZoneInfo._unpickle): CPython reduces the
  // method to `getattr(cls, name)`, whose name is an interned identifier.
  const callable: PyGlobal | Reduction =
    r.attr === undefined
      ? base
      : { callable: new PyGlobal('builtins', 'getattr'), kind: 'reduce', args: [base, new PyName(r.attr)] };
  let args: readonly unknown[] = r.args;
  if (r.module === 'builtins' && r.name === 'getattr' && typeof args[1] === 'string') {
    // Enum members (uuid.SafeUUID.safe) reduce to getattr(cls, member_name); member names are interned.
    args = [args[0], new PyName(args[1]), ...args.slice(2)];
  }
  const out: { -readonly [K in keyof Reduction]: Reduction[K] } = { callable, kind: r.kind, args };
  if (r.state !== undefined) out.state = r.state;
  if (r.listitems !== undefined) out.listitems = r.listitems;
  if (r.dictitems !== undefined) out.dictitems = r.dictitems;
  return out;
}

const stdlibReducer: Reducer = (value, ctx) => {
  const r = stdlibReduce(value, ctx.protocol);
  return r === undefined ? undefined : fromStdlib(r);
};

export const STDLIB_FAMILY: ReducerFamily = {
  name: 'stdlib',
  reduce: stdlibReducer,
  safeGlobals: [
    'datetime.datetime',
    'datetime.date',
    'datetime.time',
    'datetime.timedelta',
    'datetime.timezone',
    'datetime.tzinfo',
    'zoneinfo.ZoneInfo',
    'decimal.Decimal',
    'fractions.Fraction',
    'uuid.UUID',
    'uuid.SafeUUID',
    'collections.OrderedDict',
    'collections.defaultdict',
    'collections.Counter',
    'collections.deque',
  ],
};

/**
 * Builtin classes that may be written as bare references without `allowGlobals` (type objects
 * carry no behaviour that runs on load; e.g. `defaultdict(list)` stores `builtins.list`).
 */
export const SAFE_BUILTIN_GLOBALS: readonly string[] = [
  'builtins.object',
  'builtins.int',
  'builtins.float',
  'builtins.complex',
  'builtins.bool',
  'builtins.str',
  'builtins.bytes',
  'builtins.bytearray',
  'builtins.list',
  'builtins.tuple',
  'builtins.dict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.range',
  'builtins.slice',
];

/** The families `dumps` uses, in the order they are asked. */
export function defaultReducerFamilies(): readonly ReducerFamily[] {
  return FAMILIES;
}

// SHIM (torch helper, until the lead wires families into dumps): the torch reducer and its safe names.
const TORCH_REDUCERS: ReducerFamily = { name: 'torch', reduce: torchReducer, safeGlobals: TORCH_SAFE_GLOBALS };

const FAMILIES: readonly ReducerFamily[] = [STDLIB_FAMILY, NUMPY_FAMILY, PANDAS_FAMILY, TORCH_REDUCERS];
