/**
 * A static security scanner for pickles: it walks the opcodes (never building or calling anything),
 * models the stack and memo just enough to know which globals a stream imports and how it uses them,
 * and grades every global against our own lists of dangerous and known-benign names.
 *
 * It understands several pickles in one buffer, joblib streams (raw array bytes after a
 * NumpyArrayWrapper's BUILD, nested pickles for object arrays) and, through a decompressor hook,
 * compressed joblib files.
 */
import { UnpicklingError } from '../errors.js';
import { decompressJoblib } from '../joblib/compress.js';
import { isNpy, parseNpyHeader } from '../numpy/npy.js';
import { IMPORT_MAPPING, NAME_MAPPING } from '../python/compat.js';
import { DEFAULT_LIMITS } from '../unpickle/options.js';
import { baseMessage, readOp, type GenOp } from './genops.js';

export type ScanSeverity = 'safe' | 'unknown' | 'dangerous';
export type ScanUse = 'called' | 'referenced' | 'built';

/** One global a pickle imports (one GLOBAL / STACK_GLOBAL / INST opcode). */
export interface ScanGlobal {
  /** Module as written in the stream (Python 2 names are not rewritten here; see `resolved`). */
  module: string;
  /** Attribute name as written (may be dotted at protocol 4+). */
  name: string;
  /** Offset of the opcode that imports it, in the scanned (decompressed) bytes. */
  offset: number;
  opcode: 'GLOBAL' | 'STACK_GLOBAL' | 'INST' | 'EXT1' | 'EXT2' | 'EXT4';
  /**
   * 'called' when the unpickler would call it (callable of REDUCE, class of NEWOBJ/NEWOBJ_EX/OBJ,
   * INST), 'built' when BUILD applies state to the global object itself (attribute overwrite),
   * 'referenced' otherwise.
   */
  use: ScanUse;
  severity: ScanSeverity;
  reason?: string;
  /** `module.name` after Python 2 -> 3 renaming, when that differs from what is written. */
  resolved?: string;
  /** Index of the top-level pickle (0-based) the global belongs to. */
  pickle: number;
}

export interface ScanReport {
  /** True when any global is dangerous (including STACK_GLOBAL operands that cannot be resolved). */
  dangerous: boolean;
  globals: ScanGlobal[];
  /** Complete top-level pickles found (nested joblib object-array pickles are not counted). */
  pickles: number;
  /** Highest protocol announced by PROTO (or implied by the opcodes when no PROTO is present). */
  protocol: number;
  /** Problems met while walking: malformed opcodes, stack underflows, trailing bytes, ... */
  errors: string[];
  /** joblib array payloads skipped. */
  arrays: number;
  /**
   * True when every byte was accounted for without errors. A report with `complete: false` may miss
   * globals (e.g. compressed input without a decompressor): treat `dangerous || !complete` as unsafe.
   */
  complete: boolean;
  /** The container the scanned stream was unwrapped from, when the decompress hook was used. */
  compression?: string;
}

export interface ScanOptions {
  /**
   * Turns a compressed joblib file into its uncompressed stream (undefined when `data` is not
   * compressed). Default: picklejar's joblib decompressor (zlib, gzip, bz2, lzma, xz, lz4, z-files),
   * capped at `maxBytes`.
   */
  decompress?: (data: Uint8Array) => Uint8Array | undefined;
  /** Cap on the decompressed size for the default decompressor (default: limits.maxInputBytes, 4 GiB). */
  maxBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Classification lists (our own curation; reasons are shown to users).
// ---------------------------------------------------------------------------------------------

interface Verdict {
  severity: ScanSeverity;
  reason: string;
}

const R_EXEC = 'runs or compiles arbitrary code';
const R_ATTR = 'generic attribute access (builds gadget chains)';
const R_PROC = 'process / operating-system control';
const R_FILE = 'file-system access';
const R_NET = 'network access';
const R_IMPORT = 'import machinery (loads arbitrary modules)';
const R_DESER = 'nested deserializer (loads another, unchecked payload)';
const R_NATIVE = 'native code / memory access';
const R_INTERP = 'interpreter internals';

/** Every attribute of these modules (and their submodules) is dangerous. */
const DANGEROUS_MODULES: ReadonlyMap<string, string> = new Map([
  ...[
    'os',
    'posix',
    'nt',
    'subprocess',
    '_posixsubprocess',
    'pty',
    'commands',
    'popen2',
    'platform',
    'pipes',
  ].map((m) => [m, R_PROC] as const),
  ...[
    'multiprocessing',
    '_multiprocessing',
    'concurrent',
    'asyncio',
    'signal',
    'resource',
    'fcntl',
    'termios',
  ].map((m) => [m, R_PROC] as const),
  ...['tty', 'msvcrt', '_winapi', 'winreg', '_winreg', 'threading', '_thread', 'thread', 'atexit'].map(
    (m) => [m, R_PROC] as const,
  ),
  ...[
    'code',
    'codeop',
    'runpy',
    'marshal',
    'pydoc',
    'timeit',
    'cProfile',
    'profile',
    'pdb',
    'bdb',
    'trace',
  ].map((m) => [m, R_EXEC] as const),
  ...['doctest', 'idlelib', 'new', 'compiler', 'types', 'numpy.testing', 'numpy.f2py'].map(
    (m) => [m, R_EXEC] as const,
  ),
  ...['sys', 'site', 'gc'].map((m) => [m, R_INTERP] as const),
  ...['ctypes', '_ctypes', 'cffi', 'mmap', 'numpy.ctypeslib'].map((m) => [m, R_NATIVE] as const),
  ...['importlib', 'pkgutil', 'zipimport', 'imp', 'pkg_resources', 'importlib_metadata'].map(
    (m) => [m, R_IMPORT] as const,
  ),
  ...['ensurepip', 'pip', 'setuptools', 'distutils', 'numpy.distutils', 'venv'].map(
    (m) => [m, R_IMPORT] as const,
  ),
  ...[
    'shutil',
    'tempfile',
    'fileinput',
    'zipfile',
    'tarfile',
    'shelve',
    'dbm',
    'anydbm',
    'sqlite3',
    'pathlib',
  ].map((m) => [m, R_FILE] as const),
  ...['logging.config', 'logging.handlers'].map((m) => [m, R_FILE] as const),
  ...['socket', '_socket', 'ssl', 'urllib', 'urllib2', 'urllib3', 'httplib', 'http', 'requests', 'httpx'].map(
    (m) => [m, R_NET] as const,
  ),
  ...['aiohttp', 'ftplib', 'smtplib', 'smtpd', 'telnetlib', 'poplib', 'imaplib', 'nntplib', 'xmlrpc'].map(
    (m) => [m, R_NET] as const,
  ),
  ...['xmlrpclib', 'socketserver', 'SocketServer', 'webbrowser', 'wsgiref', 'BaseHTTPServer'].map(
    (m) => [m, R_NET] as const,
  ),
  ...['SimpleHTTPServer', 'CGIHTTPServer', 'asyncore', 'asynchat', 'paramiko'].map(
    (m) => [m, R_NET] as const,
  ),
  ...['pickle', '_pickle', 'cPickle', 'dill', 'cloudpickle', 'jsonpickle', 'joblib.externals'].map(
    (m) => [m, R_DESER] as const,
  ),
  ...[
    'torch.hub',
    'torch.jit',
    'torch.package',
    'torch.utils.cpp_extension',
    'torch._dynamo',
    'torch._inductor',
  ].map((m) => [m, R_EXEC] as const),
  ...['torch.utils.bottleneck', 'torch.utils.collect_env', 'torch.utils._config_module', 'lib2to3'].map(
    (m) => [m, R_EXEC] as const,
  ),
  ['torch.utils.data.datapipes.utils.decoder', R_DESER],
  ...['pandas.io', 'pandas.core.computation'].map((m) => [m, R_EXEC] as const),
  ...['sklearn.utils._testing', 'sklearn.utils.testing'].map((m) => [m, R_EXEC] as const),
]);

/** Names inside otherwise-dangerous modules that are plain data classes. */
const DANGEROUS_MODULE_EXCEPTIONS: ReadonlyMap<string, Verdict> = new Map(
  [
    'types.SimpleNamespace',
    'pathlib.Path',
    'pathlib.PosixPath',
    'pathlib.WindowsPath',
    'pathlib.PurePath',
    'pathlib.PurePosixPath',
    'pathlib.PureWindowsPath',
  ].map((n) => [n, { severity: 'unknown' as const, reason: 'not in the allow-list' }]),
);

/** Individually dangerous names (full `module.name`). */
const DANGEROUS_NAMES: ReadonlyMap<string, string> = new Map([
  ...[
    'eval',
    'exec',
    'execfile',
    'compile',
    '__import__',
    'breakpoint',
    'input',
    'raw_input',
    'apply',
    'help',
    'reload',
    'exit',
    'quit',
  ].map((n) => [`builtins.${n}`, R_EXEC] as const),
  ...['getattr', 'setattr', 'delattr', 'globals', 'locals', 'vars'].map(
    (n) => [`builtins.${n}`, R_ATTR] as const,
  ),
  ['builtins.open', R_FILE],
  ['builtins.file', R_FILE],
  ['operator.attrgetter', R_ATTR],
  ['operator.methodcaller', R_ATTR],
  ['operator.call', R_EXEC],
  ['_operator.attrgetter', R_ATTR],
  ['_operator.methodcaller', R_ATTR],
  ['_operator.call', R_EXEC],
  ...['open', 'open_code', 'FileIO'].flatMap((n) => [
    [`io.${n}`, R_FILE] as const,
    [`_io.${n}`, R_FILE] as const,
  ]),
  ['codecs.open', R_FILE],
  ['gzip.open', R_FILE],
  ['gzip.GzipFile', R_FILE],
  ['bz2.open', R_FILE],
  ['bz2.BZ2File', R_FILE],
  ['lzma.open', R_FILE],
  ['lzma.LZMAFile', R_FILE],
  ['logging.FileHandler', R_FILE],
  ['uuid._popen', R_PROC],
  ['uuid._get_command_stdout', R_PROC],
  ...['load', 'save', 'savez', 'savez_compressed', 'savetxt', 'fromfile', 'DataSource'].map(
    (n) => [`numpy.${n}`, n === 'load' ? R_DESER : R_FILE] as const,
  ),
  ['numpy.lib.npyio.load', R_DESER],
  ['numpy.lib._npyio_impl.load', R_DESER],
  ['numpy.lib.format.read_array', R_DESER],
  ['numpy.core.multiarray.fromfile', R_FILE],
  ['torch.load', R_DESER],
  ['torch.save', R_FILE],
  ['torch.serialization.load', R_DESER],
  ['torch.serialization.save', R_FILE],
  ['torch.storage._load_from_bytes', R_DESER],
  ['torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression', R_EXEC],
  ['torch.classes.load_library', R_NATIVE],
  ['torch.ops.load_library', R_NATIVE],
  ...['load', 'dump', 'numpy_pickle.load', 'numpy_pickle.dump', 'numpy_pickle._unpickle'].flatMap((n) => [
    [`joblib.${n}`, n.includes('load') || n.includes('unpickle') ? R_DESER : R_FILE] as const,
    [
      `sklearn.externals.joblib.${n}`,
      n.includes('load') || n.includes('unpickle') ? R_DESER : R_FILE,
    ] as const,
  ]),
  ['pandas.read_pickle', R_DESER],
  ['pandas.to_pickle', R_FILE],
  ['pandas.eval', R_EXEC],
  ...['load', 'load_all', 'unsafe_load', 'unsafe_load_all', 'full_load', 'full_load_all'].map(
    (n) => [`yaml.${n}`, R_DESER] as const,
  ),
  ...[
    'Loader',
    'UnsafeLoader',
    'FullLoader',
    'constructor.UnsafeConstructor',
    'constructor.FullConstructor',
  ].map((n) => [`yaml.${n}`, R_DESER] as const),
]);

/** Name prefixes (after the module path) that are dangerous wherever they appear. */
const DANGEROUS_NAME_PATTERNS: readonly [RegExp, string][] = [
  [/^pandas\.read_/, 'reads files or URLs'],
  [/^sklearn\.datasets\.fetch_/, R_NET],
];

/** Called (not merely referenced), these classes act on files. */
const DANGEROUS_WHEN_CALLED: ReadonlyMap<string, string> = new Map([
  ['numpy.memmap', 'creates or overwrites a memory-mapped file'],
  ['numpy.core.memmap.memmap', 'creates or overwrites a memory-mapped file'],
  ['numpy._core.memmap.memmap', 'creates or overwrites a memory-mapped file'],
]);

const SAFE_BUILTINS = [
  'set',
  'frozenset',
  'bytes',
  'bytearray',
  'complex',
  'range',
  'slice',
  'list',
  'dict',
  'tuple',
  'int',
  'float',
  'str',
  'bool',
  'object',
  'NotImplemented',
  'Ellipsis',
  'BaseException',
  'KeyboardInterrupt',
  'SystemExit',
  'StopIteration',
  'StopAsyncIteration',
  'GeneratorExit',
];

const NUMPY_CORE = ['numpy.core', 'numpy._core'];

/** Exact names known to be benign when unpickled (full `module.name`). */
const SAFE_NAMES: ReadonlyMap<string, string> = new Map([
  ...SAFE_BUILTINS.map((n) => [`builtins.${n}`, 'builtin data type'] as const),
  ...['_reconstructor', '__newobj__', '__newobj_ex__'].map(
    (n) => [`copyreg.${n}`, 'object reconstruction'] as const,
  ),
  ['_codecs.encode', 'bytes from text (protocol 0-2 bytes)'],
  ['decimal.Decimal', 'stdlib value type'],
  ['_decimal.Decimal', 'stdlib value type'],
  ['fractions.Fraction', 'stdlib value type'],
  ['uuid.UUID', 'stdlib value type'],
  ['uuid.SafeUUID', 'stdlib value type'],
  ['zoneinfo.ZoneInfo', 'stdlib value type'],
  ['zoneinfo.ZoneInfo._unpickle', 'stdlib value type'],
  ['zoneinfo._zoneinfo.ZoneInfo', 'stdlib value type'],
  ['zoneinfo._zoneinfo.ZoneInfo._unpickle', 'stdlib value type'],
  ['array.array', 'stdlib value type'],
  ['pytz._p', 'time zone'],
  ['pytz._UTC', 'time zone'],
  ['pytz.FixedOffset', 'time zone'],
  ['dateutil.tz.tz.tzutc', 'time zone'],
  ['dateutil.tz.tz.tzoffset', 'time zone'],
  ['dateutil.tz.tz.tzlocal', 'time zone'],
  ['array._array_reconstructor', 'stdlib value type'],
  ...['IPv4Address', 'IPv6Address', 'IPv4Network', 'IPv6Network', 'IPv4Interface', 'IPv6Interface'].map(
    (n) => [`ipaddress.${n}`, 'stdlib value type'] as const,
  ),
  ...NUMPY_CORE.flatMap((c) => [
    [`${c}.multiarray._reconstruct`, 'numpy array reconstruction'] as const,
    [`${c}._internal._reconstruct`, 'numpy array reconstruction'] as const,
    [`${c}.multiarray.scalar`, 'numpy scalar reconstruction'] as const,
    [`${c}.numeric._frombuffer`, 'numpy array reconstruction'] as const,
    [`${c}.multiarray.dtype`, 'numpy dtype'] as const,
    [`${c}.records.recarray`, 'numpy array class'] as const,
    [`${c}.memmap.memmap`, 'numpy array class'] as const,
    [`${c}.defchararray.chararray`, 'numpy array class'] as const,
  ]),
  ...['dtype', 'ndarray', 'matrix', 'memmap', 'recarray', 'record', 'void'].map(
    (n) => [`numpy.${n}`, 'numpy type'] as const,
  ),
  ['numpy.matrixlib.defmatrix.matrix', 'numpy array class'],
  ['numpy.ma.core._mareconstruct', 'numpy masked array reconstruction'],
  ['numpy.ma.core.MaskedArray', 'numpy array class'],
  ['numpy.ma.core.mvoid', 'numpy array class'],
  ['numpy.ma.core.MaskedConstant', 'numpy array class'],
  ...[
    '_pickle.__randomstate_ctor',
    '_pickle.__generator_ctor',
    '_pickle.__bit_generator_ctor',
    '__RandomState_ctor',
    'mtrand.RandomState',
    '_generator.Generator',
    '_mt19937.MT19937',
    '_pcg64.PCG64',
    '_pcg64.PCG64DXSM',
    '_philox.Philox',
    '_sfc64.SFC64',
    'bit_generator.SeedSequence',
  ].map((n) => [`numpy.random.${n}`, 'numpy random state'] as const),
  ...['joblib.numpy_pickle', 'sklearn.externals.joblib.numpy_pickle'].flatMap((m) =>
    ['NumpyArrayWrapper', 'NDArrayWrapper', 'ZNDArrayWrapper'].map(
      (n) => [`${m}.${n}`, 'joblib array wrapper'] as const,
    ),
  ),
  ...['_rebuild_from_type', '_rebuild_from_type_v2'].map(
    (n) => [`torch._tensor.${n}`, 'torch tensor rebuild'] as const,
  ),
  ['torch.Size', 'torch value type'],
  ['torch.device', 'torch value type'],
  ['torch.nn.parameter.Parameter', 'torch tensor class'],
  ['torch.Tensor', 'torch tensor class'],
  ['torch._tensor.Tensor', 'torch tensor class'],
  ['torch.storage.TypedStorage', 'torch storage class'],
  ['torch.storage.UntypedStorage', 'torch storage class'],
]);

/** Regular expressions over full names that are benign. */
const SAFE_PATTERNS: readonly [RegExp, string][] = [
  [/^builtins\.[A-Za-z]*(Error|Exception|Warning)$/, 'builtin exception class'],
  [/^datetime\.(datetime|date|time|timedelta|timezone|tzinfo)$/, 'stdlib value type'],
  [
    /^collections\.(OrderedDict|defaultdict|Counter|deque|ChainMap|UserDict|UserList|UserString)$/,
    'stdlib container',
  ],
  [/^collections\.abc\.[A-Za-z]+$/, 'stdlib abstract class'],
  [
    /^numpy\.(bool_?|u?int(8|16|32|64|c|p)?|u?longlong|u?short|u?byte|half|single|double|longdouble|float(16|32|64|96|128)|complex(64|128|192|256)|c?longdouble|clongfloat|csingle|cdouble|str_|bytes_|unicode_|string_|object_|datetime64|timedelta64|generic|number|integer|signedinteger|unsignedinteger|floating|complexfloating|inexact|flexible|character)$/,
    'numpy scalar type',
  ],
  [/^numpy\.dtypes\.[A-Za-z0-9]+DType$/, 'numpy dtype class'],
  [/^torch\._utils\._rebuild_[a-z0-9_]+$/, 'torch tensor rebuild'],
  [/^torch\.(cuda\.)?[A-Za-z0-9]*Storage$/, 'torch storage class'],
  [
    /^torch\.(u?int(8|16|32|64)|float(8_e4m3fn|8_e5m2|16|32|64)|bfloat16|half|double|long|short|int|bool|complex(32|64|128)|cfloat|cdouble|chalf|quint8|qint8|qint32|quint4x2|quint2x4)$/,
    'torch dtype',
  ],
  [/^scipy\.sparse\.(_?[a-z]+\.)?(csr|csc|coo|bsr|dia|dok|lil)_(matrix|array)$/, 'scipy sparse matrix class'],
];

/** Module prefixes whose plain (undotted) names are benign classes and reconstructors. */
const SAFE_PREFIXES: readonly [string, string][] = [
  ['sklearn.', 'scikit-learn class or function'],
  ['pandas.core.', 'pandas internals'],
  ['pandas._libs.', 'pandas internals'],
  ['pandas.tseries.', 'pandas internals'],
  ['pandas.indexes.', 'pandas internals (old)'],
  ['pandas.arrays.', 'pandas internals'],
];

/** Final attribute names that, reached through a dotted name, call, load or write something. */
const RISKY_ATTRIBUTE =
  /^(eval|exec\w*|system|popen\w*|spawn\w*|call|check_call|check_output|run\w*|load\w*|read_\w+|to_\w+|save\w*|dump\w*|write\w*|open|remove|unlink|rmtree|rename|query|apply|pipe|getattr|setattr|delattr)$/;

const DUNDER = /^__\w+__$/;

function moduleOf(full: string, prefixes: ReadonlyMap<string, string>): [string, string] | undefined {
  let cut = full.lastIndexOf('.');
  while (cut > 0) {
    const head = full.slice(0, cut);
    const hit = prefixes.get(head);
    if (hit !== undefined) return [head, hit];
    cut = full.lastIndexOf('.', cut - 1);
  }
  return undefined;
}

/** Grade one `module` + `name` as written (no renaming). */
function classifyRaw(module: string, name: string): Verdict {
  const full = `${module}.${name}`;
  const parts = name.split('.');
  const exact = DANGEROUS_NAMES.get(full);
  if (exact !== undefined) return { severity: 'dangerous', reason: exact };
  const dunder = parts.find((p) => DUNDER.test(p));
  if (dunder !== undefined && !SAFE_NAMES.has(full)) {
    return { severity: 'dangerous', reason: `reaches the special attribute ${dunder}` };
  }
  for (const [re, why] of DANGEROUS_NAME_PATTERNS)
    if (re.test(full)) return { severity: 'dangerous', reason: why };
  const exception = DANGEROUS_MODULE_EXCEPTIONS.get(full);
  if (exception !== undefined) return exception;
  const mod = moduleOf(full, DANGEROUS_MODULES);
  if (mod !== undefined) return { severity: 'dangerous', reason: `${mod[0]}: ${mod[1]}` };
  const safe = SAFE_NAMES.get(full);
  if (safe !== undefined) return { severity: 'safe', reason: safe };
  for (const [re, why] of SAFE_PATTERNS) if (re.test(full)) return { severity: 'safe', reason: why };
  const dotted = parts.length > 1;
  const last = parts[parts.length - 1] as string;
  if (dotted && RISKY_ATTRIBUTE.test(last)) {
    return { severity: 'dangerous', reason: `method reference ${last} (calls, loads or writes)` };
  }
  if (!dotted) {
    for (const [prefix, why] of SAFE_PREFIXES)
      if (full.startsWith(prefix)) return { severity: 'safe', reason: why };
  }
  return { severity: 'unknown', reason: 'not in the allow-list' };
}

const BUILT_VERDICT: Verdict = {
  severity: 'dangerous',
  reason: 'BUILD sets attributes on the imported object itself',
};

const RANK: Record<ScanSeverity, number> = { safe: 0, unknown: 1, dangerous: 2 };

function worse(a: Verdict, b: Verdict): Verdict {
  return RANK[b.severity] > RANK[a.severity] ? b : a;
}

/** `module name` after CPython's Python 2 -> 3 renaming (applied by the unpickler below protocol 3). */
function renamed(module: string, name: string): [string, string] | undefined {
  const pair = NAME_MAPPING.get(`${module} ${name}`);
  if (pair !== undefined) {
    const sp = pair.indexOf(' ');
    return [pair.slice(0, sp), pair.slice(sp + 1)];
  }
  const m = IMPORT_MAPPING.get(module);
  return m !== undefined ? [m, name] : undefined;
}

/**
 * Grade a global. Below protocol 3 the unpickler reads Python 2 names through CPython's rename
 * tables, so the renamed name decides; the name as written still counts when it is dangerous (a
 * stream can announce any protocol).
 * @example
 * classifyGlobal('os', 'system', 'called').severity; // 'dangerous'
 * classifyGlobal('numpy', 'dtype').severity;          // 'safe'
 */
export function classifyGlobal(module: string, name: string, use: ScanUse = 'referenced'): Verdict {
  const raw = classifyRaw(module, name);
  const r = renamed(module, name);
  let v = raw;
  if (r !== undefined) {
    const mapped = classifyRaw(r[0], r[1]);
    v = raw.severity === 'dangerous' ? worse(mapped, raw) : mapped;
  }
  if (use === 'called') {
    const full = r !== undefined ? `${r[0]}.${r[1]}` : `${module}.${name}`;
    const why = DANGEROUS_WHEN_CALLED.get(full) ?? DANGEROUS_WHEN_CALLED.get(`${module}.${name}`);
    if (why !== undefined) v = { severity: 'dangerous', reason: why };
  }
  if (use === 'built') v = worse(v, BUILT_VERDICT);
  return v;
}

// ---------------------------------------------------------------------------------------------
// The opcode walker
// ---------------------------------------------------------------------------------------------

interface Entry {
  module: string;
  name: string;
  offset: number;
  opcode: ScanGlobal['opcode'];
  use: ScanUse;
  pickle: number;
  /** Fixed verdict (unresolvable STACK_GLOBAL, extension codes). */
  fixed?: Verdict;
  /** builtins.getattr: the globals it was seen to produce from literal arguments. */
  getattrResults?: Entry[];
  /** builtins.getattr used in any other way than `getattr(<global>, '<literal>')`. */
  getattrOpaque?: boolean;
  /** Item stored in a container or passed as data (matters for getattr). */
  escaped?: boolean;
  /** BUILD applied state to the imported object itself (kept apart from `use`, which prefers 'called'). */
  built?: boolean;
  /** Synthesized (the result of a getattr), not an opcode of the stream. */
  virtual?: boolean;
}

type Item =
  | { k: 'str'; v: string }
  | { k: 'int'; v: number | bigint }
  | { k: 'none' }
  | { k: 'global'; e: Entry }
  | { k: 'tuple'; items: Item[] }
  | { k: 'dict'; entries: Map<string, Item> }
  | { k: 'dtype'; typestr: string | undefined; elsize: number | undefined; flags: number | undefined }
  | {
      k: 'obj';
      cls: Item;
      /** A joblib NumpyArrayWrapper (only when walking with joblib semantics). */
      wrapper: boolean;
      /** Arguments its __init__ ran with (REDUCE / OBJ / INST), for wrappers. */
      initArgs?: Item[];
      state?: Item;
    }
  | { k: 'other' };

const OTHER: Item = { k: 'other' };
const NONE: Item = { k: 'none' };

const STRING_OPS = new Set([
  'STRING',
  'BINSTRING',
  'SHORT_BINSTRING',
  'UNICODE',
  'BINUNICODE',
  'SHORT_BINUNICODE',
  'BINUNICODE8',
]);
const INT_OPS = new Set(['INT', 'BININT', 'BININT1', 'BININT2', 'LONG', 'LONG1', 'LONG4']);
const OPAQUE_PUSH_OPS = new Set([
  'FLOAT',
  'BINFLOAT',
  'BINBYTES',
  'SHORT_BINBYTES',
  'BINBYTES8',
  'BYTEARRAY8',
  'NEWTRUE',
  'NEWFALSE',
  'EMPTY_LIST',
  'EMPTY_SET',
  'NEXT_BUFFER',
  'PERSID',
]);

const MAX_ERRORS = 50;

interface Ctx {
  readonly data: Uint8Array;
  readonly entries: Entry[];
  readonly errors: string[];
  arrays: number;
  /** Offsets where joblib array payloads start, with their lengths (for the plain-pickle pass). */
  readonly payloads: [number, number][];
}

function addError(ctx: Ctx, message: string): void {
  if (ctx.errors.length < MAX_ERRORS) ctx.errors.push(message);
  else if (ctx.errors.length === MAX_ERRORS) ctx.errors.push('(further errors omitted)');
}

function fullName(e: Entry): string {
  return `${e.module}.${e.name}`;
}

function isGetattr(e: Entry): boolean {
  if (e.fixed !== undefined) return false;
  const r = renamed(e.module, e.name);
  const [m, n] = r ?? [e.module, e.name];
  return m === 'builtins' && n === 'getattr';
}

function isGlobal(item: Item, names: readonly string[]): boolean {
  if (item.k !== 'global') return false;
  const r = renamed(item.e.module, item.e.name);
  let full = r !== undefined ? `${r[0]}.${r[1]}` : fullName(item.e);
  full = full.replace(/^numpy\._core\./, 'numpy.core.');
  return names.includes(full);
}

const USE_RANK: Record<ScanUse, number> = { referenced: 0, built: 1, called: 2 };

function setUse(e: Entry, use: ScanUse): void {
  if (USE_RANK[use] > USE_RANK[e.use]) e.use = use;
}

/** Items placed inside other values: a global there may be called by whatever receives it. */
function escape(item: Item): void {
  if (item.k === 'global') {
    item.e.escaped = true;
  } else if (item.k === 'tuple') {
    for (const x of item.items) if (x.k === 'global') x.e.escaped = true;
  }
}

function toInt(item: Item | undefined): number | undefined {
  if (item === undefined || item.k !== 'int') return undefined;
  const v = Number(item.v);
  return Number.isSafeInteger(v) ? v : undefined;
}

const WRAPPER_NAMES = [
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
];
const RECONSTRUCTOR_NAMES = ['copyreg._reconstructor'];
const DTYPE_NAMES = ['numpy.dtype', 'numpy.core.multiarray.dtype'];

/** Byte size of one element of a dtype item, and whether it holds Python objects. */
function dtypeInfo(d: Item | undefined): { itemsize: number; hasObject: boolean } | undefined {
  if (d === undefined || d.k !== 'dtype') return undefined;
  const flags = d.flags ?? 0;
  const m = d.typestr !== undefined ? /^([a-zA-Z])(\d+)$/.exec(d.typestr) : null;
  const kind = m?.[1];
  const hasObject = kind === 'O' || (flags & 1) !== 0;
  if (d.elsize !== undefined && d.elsize > 0) return { itemsize: d.elsize, hasObject };
  if (m === null) return hasObject ? { itemsize: 8, hasObject } : undefined;
  const n = Number(m[2]);
  return { itemsize: kind === 'U' ? n * 4 : n, hasObject };
}

interface WalkResult {
  /** Offset after STOP (or where walking stopped). */
  end: number;
  complete: boolean;
  protocol: number;
}

/**
 * Walk one pickle from `start`. With `joblib`, a BUILD on a NumpyArrayWrapper is followed by the
 * array payload, as joblib's unpickler reads it. Byte-level problems end the walk; modelling
 * problems (underflow, unknown memo keys) are recorded and the walk goes on with placeholders, so
 * that a stream our model misreads still has all its globals listed.
 */
function walkPickle(ctx: Ctx, start: number, pickleIndex: number, joblib: boolean): WalkResult {
  const data = ctx.data;
  let stack: Item[] = [];
  const marks: Item[][] = [];
  const memo = new Map<number, Item>();
  let protocol = -1;
  let opProto = 0;
  let pos = start;
  let reportedUnderflow = false;

  const underflow = (g: GenOp): void => {
    if (!reportedUnderflow) addError(ctx, `offset ${g.pos} (${g.op.name}): stack underflow`);
    reportedUnderflow = true;
  };
  const pop = (g: GenOp): Item => {
    const v = stack.pop();
    if (v === undefined) {
      underflow(g);
      return OTHER;
    }
    return v;
  };
  const top = (g: GenOp): Item => {
    const v = stack[stack.length - 1];
    if (v === undefined) {
      underflow(g);
      return OTHER;
    }
    return v;
  };
  const popMark = (g: GenOp): Item[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) {
      addError(ctx, `offset ${g.pos} (${g.op.name}): no MARK on the stack`);
      stack = [];
      return items;
    }
    stack = prev;
    return items;
  };
  const newEntry = (
    module: string,
    name: string,
    g: GenOp,
    opcode: Entry['opcode'],
    fixed?: Verdict,
  ): Entry => {
    const e: Entry = { module, name, offset: g.pos, opcode, use: 'referenced', pickle: pickleIndex };
    if (fixed !== undefined) e.fixed = fixed;
    ctx.entries.push(e);
    return e;
  };
  const called = (callable: Item): void => {
    if (callable.k === 'global') setUse(callable.e, 'called');
  };

  for (;;) {
    let g: GenOp;
    try {
      g = readOp(data, pos, { lenient: true });
    } catch (e) {
      if (e instanceof UnpicklingError) {
        addError(
          ctx,
          pos >= data.length ? `offset ${pos}: pickle ends before STOP` : `offset ${pos}: ${baseMessage(e)}`,
        );
        return { end: pos, complete: false, protocol: Math.max(protocol, opProto) };
      }
      throw e;
    }
    pos = g.end;
    const name = g.op.name;
    opProto = Math.max(opProto, g.op.proto);
    if (STRING_OPS.has(name)) {
      stack.push({ k: 'str', v: g.arg as string });
      continue;
    }
    if (INT_OPS.has(name)) {
      const a = g.arg;
      stack.push(typeof a === 'number' || typeof a === 'bigint' ? { k: 'int', v: a } : OTHER);
      continue;
    }
    if (OPAQUE_PUSH_OPS.has(name)) {
      stack.push(OTHER);
      continue;
    }
    switch (name) {
      case 'PROTO': {
        const p = g.arg as number;
        if (p > 5) addError(ctx, `offset ${g.pos}: unsupported pickle protocol ${p}`);
        protocol = Math.max(protocol, p);
        break;
      }
      case 'FRAME':
        break;
      case 'STOP':
        pop(g);
        return { end: pos, complete: true, protocol: protocol >= 0 ? protocol : opProto };
      case 'NONE':
        stack.push(NONE);
        break;
      case 'MARK':
        marks.push(stack);
        stack = [];
        break;
      case 'POP':
        if (stack.length === 0 && marks.length > 0) popMark(g);
        else pop(g);
        break;
      case 'POP_MARK':
        popMark(g);
        break;
      case 'DUP':
        stack.push(top(g));
        break;
      case 'EMPTY_TUPLE':
        stack.push({ k: 'tuple', items: [] });
        break;
      case 'TUPLE': {
        const items = popMark(g);
        items.forEach(escape);
        stack.push({ k: 'tuple', items });
        break;
      }
      case 'TUPLE1':
      case 'TUPLE2':
      case 'TUPLE3': {
        const n = name === 'TUPLE1' ? 1 : name === 'TUPLE2' ? 2 : 3;
        const items: Item[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop(g));
        items.forEach(escape);
        stack.push({ k: 'tuple', items });
        break;
      }
      case 'LIST':
        popMark(g).forEach(escape);
        stack.push(OTHER);
        break;
      case 'FROZENSET':
        popMark(g).forEach(escape);
        stack.push(OTHER);
        break;
      case 'EMPTY_DICT':
        stack.push({ k: 'dict', entries: new Map() });
        break;
      case 'DICT': {
        const items = popMark(g);
        const d: Item = { k: 'dict', entries: new Map() };
        for (let i = 0; i + 1 < items.length; i += 2) {
          const key = items[i] as Item;
          const value = items[i + 1] as Item;
          escape(key);
          escape(value);
          if (key.k === 'str') d.entries.set(key.v, value);
        }
        stack.push(d);
        break;
      }
      case 'APPEND':
        escape(pop(g));
        top(g);
        break;
      case 'APPENDS':
      case 'ADDITEMS':
        popMark(g).forEach(escape);
        top(g);
        break;
      case 'SETITEM': {
        const value = pop(g);
        const key = pop(g);
        escape(key);
        escape(value);
        const d = top(g);
        if (d.k === 'dict' && key.k === 'str') d.entries.set(key.v, value);
        break;
      }
      case 'SETITEMS': {
        const items = popMark(g);
        const d = top(g);
        for (let i = 0; i + 1 < items.length; i += 2) {
          const key = items[i] as Item;
          const value = items[i + 1] as Item;
          escape(key);
          escape(value);
          if (d.k === 'dict' && key.k === 'str') d.entries.set(key.v, value);
        }
        break;
      }
      case 'PUT':
      case 'BINPUT':
      case 'LONG_BINPUT': {
        const idx = typeof g.arg === 'boolean' ? Number(g.arg) : Number(g.arg);
        memo.set(idx, top(g));
        break;
      }
      case 'MEMOIZE':
        memo.set(memo.size, top(g));
        break;
      case 'GET':
      case 'BINGET':
      case 'LONG_BINGET': {
        const idx = typeof g.arg === 'boolean' ? Number(g.arg) : Number(g.arg);
        const v = memo.get(idx);
        if (v === undefined)
          addError(ctx, `offset ${g.pos} (${name}): memo key ${String(g.arg)} was never stored`);
        stack.push(v ?? OTHER);
        break;
      }
      case 'GLOBAL': {
        const [module, attr] = splitPair(g.arg as string);
        stack.push({ k: 'global', e: newEntry(module, attr, g, 'GLOBAL') });
        break;
      }
      case 'INST': {
        const [module, attr] = splitPair(g.arg as string);
        const e = newEntry(module, attr, g, 'INST');
        e.use = 'called';
        const args = popMark(g);
        args.forEach(escape);
        const cls: Item = { k: 'global', e };
        stack.push(wrapperOr(joblib, cls, args));
        break;
      }
      case 'STACK_GLOBAL': {
        const attr = pop(g);
        const module = pop(g);
        if (module.k === 'str' && attr.k === 'str') {
          stack.push({ k: 'global', e: newEntry(module.v, attr.v, g, 'STACK_GLOBAL') });
        } else {
          const m = module.k === 'str' ? module.v : `<${describeItem(module)}>`;
          const n = attr.k === 'str' ? attr.v : `<${describeItem(attr)}>`;
          const e = newEntry(m, n, g, 'STACK_GLOBAL', {
            severity: 'dangerous',
            reason: 'STACK_GLOBAL operands are not plain strings: the imported name cannot be determined',
          });
          stack.push({ k: 'global', e });
        }
        break;
      }
      case 'EXT1':
      case 'EXT2':
      case 'EXT4': {
        const e = newEntry('<extension>', String(g.arg), g, name, {
          severity: 'unknown',
          reason: 'copyreg extension code: resolves to whatever global the reading process registered',
        });
        stack.push({ k: 'global', e });
        break;
      }
      case 'REDUCE': {
        const args = pop(g);
        const callable = pop(g);
        called(callable);
        escape(args);
        stack.push(reduceResult(callable, args, g, joblib));
        break;
      }
      case 'NEWOBJ': {
        const args = pop(g);
        const cls = pop(g);
        called(cls);
        escape(args);
        stack.push({ k: 'obj', cls, wrapper: joblib && isGlobal(cls, WRAPPER_NAMES) });
        break;
      }
      case 'NEWOBJ_EX': {
        const kwargs = pop(g);
        const args = pop(g);
        const cls = pop(g);
        called(cls);
        escape(args);
        escape(kwargs);
        stack.push({ k: 'obj', cls, wrapper: joblib && isGlobal(cls, WRAPPER_NAMES) });
        break;
      }
      case 'OBJ': {
        const items = popMark(g);
        const cls = items.shift() ?? OTHER;
        called(cls);
        items.forEach(escape);
        stack.push(wrapperOr(joblib, cls, items));
        break;
      }
      case 'BUILD': {
        const state = pop(g);
        const target = top(g);
        escape(state);
        if (target.k === 'global') {
          setUse(target.e, 'built');
          target.e.built = true;
        } else if (target.k === 'dtype' && state.k === 'tuple') {
          const el = toInt(state.items[5]);
          const fl = toInt(state.items[7]);
          if (el !== undefined) target.elsize = el;
          if (fl !== undefined) target.flags = fl;
        } else if (target.k === 'obj') {
          target.state = state;
          if (target.wrapper) {
            const next = skipJoblibPayload(ctx, g, target, state, pos, pickleIndex);
            if (next === undefined)
              return { end: pos, complete: false, protocol: Math.max(protocol, opProto) };
            pos = next;
            stack[stack.length - 1] = OTHER; // the array replaces the wrapper
          }
        }
        break;
      }
      case 'BINPERSID':
        pop(g);
        stack.push(OTHER);
        break;
      case 'READONLY_BUFFER':
        top(g);
        break;
      default:
        addError(ctx, `offset ${g.pos}: opcode ${name} not modelled`);
        break;
    }
  }
}

function splitPair(arg: string): [string, string] {
  const sp = arg.indexOf(' ');
  return sp < 0 ? [arg, ''] : [arg.slice(0, sp), arg.slice(sp + 1)];
}

function describeItem(item: Item): string {
  switch (item.k) {
    case 'global':
      return `global ${fullName(item.e)}`;
    case 'obj':
      return 'result of a call';
    case 'other':
      return 'non-string value';
    default:
      return item.k;
  }
}

/** The value REDUCE leaves on the stack (dtype and getattr get special treatment). */
function reduceResult(callable: Item, args: Item, g: GenOp, joblib: boolean): Item {
  if (joblib && isGlobal(callable, RECONSTRUCTOR_NAMES) && args.k === 'tuple') {
    // Protocols 0-1 create plain instances through copyreg._reconstructor(cls, object, None).
    const cls = args.items[0];
    if (cls !== undefined && isGlobal(cls, WRAPPER_NAMES)) return { k: 'obj', cls, wrapper: true };
  }
  if (joblib && args.k === 'tuple') {
    const w = wrapperOr(joblib, callable, args.items);
    if (w.k === 'obj' && w.wrapper) return w;
  }
  if (isGlobal(callable, DTYPE_NAMES) && args.k === 'tuple') {
    const first = args.items[0];
    return {
      k: 'dtype',
      typestr: first?.k === 'str' ? first.v : undefined,
      elsize: undefined,
      flags: undefined,
    };
  }
  if (callable.k === 'global' && isGetattr(callable.e)) {
    const e = callable.e;
    const target = args.k === 'tuple' && args.items.length === 2 ? args.items[0] : undefined;
    const attr = args.k === 'tuple' && args.items.length === 2 ? args.items[1] : undefined;
    if (target?.k === 'global' && attr?.k === 'str' && target.e.fixed === undefined) {
      // getattr(<global>, '<name>') is the global `module.name.attr` (how protocols < 4 write
      // nested names such as `zoneinfo.ZoneInfo._unpickle`).
      const v: Entry = {
        module: target.e.module,
        name: `${target.e.name}.${attr.v}`,
        offset: g.pos,
        opcode: target.e.opcode,
        use: 'referenced',
        pickle: e.pickle,
        virtual: true,
      };
      (e.getattrResults ??= []).push(v);
      return { k: 'global', e: v };
    }
    e.getattrOpaque = true;
  }
  return { k: 'obj', cls: callable, wrapper: false };
}

/** An instance created by calling `cls(*args)`: a wrapper (with its __init__ arguments) or opaque. */
function wrapperOr(joblib: boolean, cls: Item, args: Item[]): Item {
  if (joblib && isGlobal(cls, WRAPPER_NAMES)) return { k: 'obj', cls, wrapper: true, initArgs: args };
  return { k: 'obj', cls, wrapper: false };
}

/** NumpyArrayWrapper.__init__ parameters, in order (joblib >= 1.2; the last one defaults to 16). */
const WRAPPER_INIT = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];

/**
 * The wrapper's attributes when joblib reads the payload: those its __init__ set (when it was called
 * rather than created with NEWOBJ), updated by the BUILD state (a dict, or a (dict, slots) pair).
 */
function wrapperAttributes(target: Item, state: Item): Map<string, Item> | undefined {
  const attrs = new Map<string, Item>();
  if (target.k === 'obj' && target.initArgs !== undefined) {
    target.initArgs.forEach((a, i) => {
      const key = WRAPPER_INIT[i];
      if (key !== undefined) attrs.set(key, a);
    });
    if (target.initArgs.length < WRAPPER_INIT.length)
      attrs.set('numpy_array_alignment_bytes', { k: 'int', v: 16 });
  }
  const parts = state.k === 'tuple' && state.items.length === 2 ? state.items : [state];
  for (const part of parts) {
    if (part.k === 'dict') for (const [k, v] of part.entries) attrs.set(k, v);
    else if (part.k !== 'none') return undefined;
  }
  return attrs;
}

/**
 * After the BUILD of a NumpyArrayWrapper at `g`, joblib reads the array from the stream: an optional
 * alignment byte plus padding, then shape × itemsize raw bytes (or a nested pickle for object
 * arrays). Returns the offset where the outer pickle resumes, or undefined when the payload cannot
 * be delimited.
 */
function skipJoblibPayload(
  ctx: Ctx,
  g: GenOp,
  target: Item,
  state: Item,
  pos: number,
  pickleIndex: number,
): number | undefined {
  const where = `offset ${g.pos} (BUILD of joblib NumpyArrayWrapper)`;
  const attrs = wrapperAttributes(target, state);
  if (attrs === undefined) {
    addError(ctx, `${where}: state is not a dict; cannot locate the array data`);
    return undefined;
  }
  const info = dtypeInfo(attrs.get('dtype'));
  if (info === undefined) {
    addError(ctx, `${where}: dtype not understood; cannot locate the array data`);
    return undefined;
  }
  ctx.arrays++;
  if (info.hasObject) {
    // Object arrays travel as a complete nested pickle, read by the plain pickle module.
    const nested = walkPickle(ctx, pos, pickleIndex, false);
    return nested.complete ? nested.end : undefined;
  }
  const shape = attrs.get('shape');
  let count = 1;
  if (shape?.k === 'tuple') {
    for (const d of shape.items) {
      const n = toInt(d);
      if (n === undefined || n < 0) {
        addError(ctx, `${where}: shape not understood; cannot locate the array data`);
        return undefined;
      }
      count *= n;
    }
  } else {
    addError(ctx, `${where}: shape not understood; cannot locate the array data`);
    return undefined;
  }
  let p = pos;
  const align = attrs.get('numpy_array_alignment_bytes');
  if (align !== undefined && align.k !== 'none') {
    if (p >= ctx.data.length) {
      addError(ctx, `${where}: stream ends before the array padding`);
      return undefined;
    }
    p += 1 + (ctx.data[p] as number);
  }
  const nbytes = count * info.itemsize;
  if (!Number.isSafeInteger(nbytes) || p + nbytes > ctx.data.length) {
    addError(ctx, `${where}: array of ${nbytes} bytes runs past the end of the stream`);
    return undefined;
  }
  ctx.payloads.push([pos, p + nbytes - pos]);
  return p + nbytes;
}

function finalize(e: Entry): ScanGlobal {
  let v: Verdict;
  if (e.fixed !== undefined) {
    v = e.fixed;
  } else if (isGetattr(e)) {
    v = classifyGlobal(e.module, e.name, e.use);
    const results = e.getattrResults ?? [];
    if (!e.getattrOpaque && !e.escaped && e.use === 'called' && results.length > 0) {
      // Only ever called on literal (global, 'name') pairs: grade it as the worst name it produced.
      v = { severity: 'safe', reason: '' };
      const names: string[] = [];
      for (const r of results) {
        const rv = finalize(r);
        if (RANK[rv.severity] > RANK[v.severity] || v.reason === '')
          v = { severity: rv.severity, reason: rv.reason ?? '' };
        names.push(`${r.module}.${r.name}`);
      }
      v = {
        severity: v.severity,
        reason: `getattr used only to reach ${[...new Set(names)].join(', ')} (${v.reason})`,
      };
    }
  } else {
    v = classifyGlobal(e.module, e.name, e.use);
  }
  if (e.built && e.fixed === undefined) v = worse(v, BUILT_VERDICT);
  const g: ScanGlobal = {
    module: e.module,
    name: e.name,
    offset: e.offset,
    opcode: e.opcode,
    use: e.use,
    severity: v.severity,
    reason: v.reason,
    pickle: e.pickle,
  };
  const r = e.fixed === undefined ? renamed(e.module, e.name) : undefined;
  if (r !== undefined) g.resolved = `${r[0]}.${r[1]}`;
  return g;
}

/** Walk every pickle in `data` (only the first with `firstOnly`); `joblib` enables payload skipping. */
function walkAll(data: Uint8Array, joblib: boolean, firstOnly = false): { ctx: Ctx; pickles: number; protocol: number } {
  const ctx: Ctx = { data, entries: [], errors: [], arrays: 0, payloads: [] };
  let pos = 0;
  let pickles = 0;
  let protocol = -1;
  while (pos < data.length) {
    const before = ctx.errors.length;
    const r = walkPickle(ctx, pos, pickles, joblib);
    if (!r.complete) {
      if (pickles > 0 && r.end === pos && ctx.errors.length > before) {
        ctx.errors[before] =
          `offset ${pos}: ${data.length - pos} trailing bytes after the last pickle are not a pickle (${ctx.errors[before]})`;
      }
      if (pickles === 0 || r.end > pos) protocol = Math.max(protocol, r.protocol);
      break;
    }
    pickles++;
    protocol = Math.max(protocol, r.protocol);
    pos = r.end;
    if (firstOnly) break;
  }
  if (data.length === 0) addError(ctx, 'empty input');
  return { ctx, pickles, protocol: Math.max(protocol, 0) };
}

/**
 * Scan an uncompressed stream: one or more pickles, or a joblib stream.
 * @example
 * scanStream(pickleBytes).globals; // [{ module: 'posix', name: 'system', use: 'called', severity: 'dangerous', … }]
 */
export function scanStream(data: Uint8Array): ScanReport {
  return scanPickles(data, false);
}

function scanPickles(data: Uint8Array, firstOnly: boolean): ScanReport {
  const main = walkAll(data, true, firstOnly);
  const globals = main.ctx.entries.map(finalize);
  if (main.ctx.payloads.length > 0) {
    // pickle.load (unlike joblib.load) would run the bytes joblib treats as array data as opcodes;
    // report anything dangerous that path reaches too.
    const plain = walkAll(data, false, firstOnly);
    const seen = new Set(globals.map((x) => x.offset));
    for (const e of plain.ctx.entries) {
      const g = finalize(e);
      if (g.severity === 'dangerous' && !seen.has(g.offset)) {
        g.reason = `${g.reason ?? ''}; reached only if the file is read with pickle.load (joblib treats these bytes as array data)`;
        globals.push(g);
      }
    }
    globals.sort((a, b) => a.offset - b.offset);
  }
  return {
    dangerous: globals.some((x) => x.severity === 'dangerous'),
    globals,
    pickles: main.pickles,
    protocol: main.protocol,
    errors: main.ctx.errors,
    arrays: main.ctx.arrays,
    complete: main.ctx.errors.length === 0,
  };
}

const COMPRESSION_MAGIC: readonly [string, number[]][] = [
  ['joblib-zfile', [0x5a, 0x46]],
  ['zlib', [0x78]],
  ['gzip', [0x1f, 0x8b]],
  ['bz2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
];

/** The compression container `data` starts with, if any (joblib's detection order). */
export function detectCompression(data: Uint8Array): string | undefined {
  for (const [name, magic] of COMPRESSION_MAGIC) {
    if (data.length >= magic.length && magic.every((b, i) => data[i] === b)) return name;
  }
  return undefined;
}

/**
 * Scan a pickle, several concatenated pickles, or a joblib file (compressed ones through
 * `options.decompress`). Nothing is evaluated.
 * @example
 * const report = scan(await readFile('upload.pkl'));
 * if (report.dangerous) throw new Error(report.globals.map((g) => `${g.module}.${g.name}`).join(', '));
 */
export function scan(data: Uint8Array, options: ScanOptions = {}): ScanReport {
  const compression = detectCompression(data);
  if (compression !== undefined) {
    const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxInputBytes;
    const decompress = options.decompress ?? ((d: Uint8Array) => decompressJoblib(d, maxBytes));
    let inner: Uint8Array | undefined;
    let failure = 'no decompressor was available';
    try {
      inner = decompress(data);
    } catch (e) {
      failure = `decompression failed: ${(e as Error).message}`;
    }
    if (inner !== undefined) return { ...scanStream(inner), compression };
    return {
      dangerous: false,
      globals: [],
      pickles: 0,
      protocol: 0,
      errors: [`input looks ${compression}-compressed; ${failure}, so nothing was scanned`],
      arrays: 0,
      complete: false,
      compression,
    };
  }
  if (isNpy(data)) return scanNpy(data);
  return scanStream(data);
}

/**
 * A .npy file is not a pickle (its magic byte 0x93 would read as STACK_GLOBAL): only an object array
 * holds one, right after the header. Offsets are reported in file bytes.
 */
function scanNpy(data: Uint8Array): ScanReport {
  let dataOffset: number;
  let hasObject: boolean;
  try {
    const h = parseNpyHeader(data);
    dataOffset = h.dataOffset;
    hasObject = h.dtype.hasObject;
  } catch (e) {
    const errors = [`malformed .npy file: ${(e as Error).message}`];
    return { dangerous: false, globals: [], pickles: 0, protocol: 0, errors, arrays: 0, complete: false };
  }
  if (!hasObject) return { dangerous: false, globals: [], pickles: 0, protocol: 0, errors: [], arrays: 1, complete: true };
  // np.load unpickles one pickle and ignores what follows (old numpy left a newline there).
  const inner = scanPickles(data.subarray(dataOffset), true);
  return { ...inner, globals: inner.globals.map((g) => ({ ...g, offset: g.offset + dataOffset })) };
}
