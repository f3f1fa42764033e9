/**
 * The one policy table. `loads` refuses what it grades dangerous (unless `dangerousGlobals: 'inert'`),
 * `scan` flags the same names with the same reasons, and `dumps` writes bare references only to names
 * it grades safe exactly (not by pattern). Families add their own rules (src/family.ts); the rules
 * here are about Python itself and the libraries no family rebuilds.
 *
 * Nothing is ever executed by picklejar; refusing dangerous names makes a hostile file fail loudly
 * instead of decoding into something that looks harmless, and tells a user what Python would do.
 */
import type { Family, PolicyRule, Severity } from '../family.js';
import { IMPORT_MAPPING, NAME_MAPPING } from '../python/compat.js';

export type { PolicyRule, Severity } from '../family.js';

/** How a name is used by the stream: called (REDUCE, NEWOBJ, INST, OBJ), BUILD on it, or only referenced. */
export type GlobalUse = 'called' | 'referenced' | 'built';

export interface Verdict {
  readonly severity: Severity;
  readonly reason: string;
}

const R_EXEC = 'runs or compiles arbitrary code';
const R_ATTR = 'generic attribute access (builds gadget chains)';
const R_CALL = 'calls a function it is given (builds gadget chains)';
const R_PROC = 'process / operating-system control';
const R_FILE = 'file-system access';
const R_NET = 'network access';
const R_IMPORT = 'import machinery (loads arbitrary modules)';
const R_DESER = 'nested deserializer (loads another, unchecked payload)';
const R_NATIVE = 'native code / memory access';
const R_INTERP = 'interpreter internals';

const modules = (reason: string, names: readonly string[]): PolicyRule[] =>
  names.map((m) => ({ name: `${m}.*`, severity: 'dangerous', reason }));
const dangerous = (reason: string, names: readonly string[]): PolicyRule[] =>
  names.map((name) => ({ name, severity: 'dangerous', reason }));
const safe = (reason: string, names: readonly string[]): PolicyRule[] =>
  names.map((name) => ({ name, severity: 'safe', reason }));

/**
 * Python's own rules: modules whose every name is dangerous, dangerous names in harmless modules,
 * and the stdlib data classes that are safe. Library-specific names live in their families.
 */
export const BASE_RULES: readonly PolicyRule[] = [
  ...modules(R_PROC, ['os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', '_posixsubprocess', 'pty']),
  ...modules(R_PROC, ['commands', 'popen2', 'platform', 'pipes', 'multiprocessing', '_multiprocessing']),
  ...modules(R_PROC, ['concurrent', 'asyncio', 'signal', 'resource', 'fcntl', 'termios', 'tty', 'msvcrt']),
  ...modules(R_PROC, ['_winapi', 'winreg', '_winreg', 'threading', '_thread', 'thread', 'atexit']),
  ...modules(R_EXEC, ['code', 'codeop', 'runpy', 'marshal', 'pydoc', 'timeit', 'cProfile', 'profile', 'pdb']),
  ...modules(R_EXEC, ['bdb', 'trace', 'doctest', 'idlelib', 'new', 'compiler', 'types', 'lib2to3']),
  ...modules(R_EXEC, ['jinja2', 'numpy.testing', 'numpy.f2py']),
  ...modules(R_INTERP, ['sys', 'site', 'gc', 'inspect', 'sysconfig', 'linecache']),
  ...modules(R_NATIVE, ['ctypes', '_ctypes', 'cffi', 'mmap', 'numpy.ctypeslib']),
  ...modules(R_IMPORT, ['importlib', 'pkgutil', 'zipimport', 'imp', 'pkg_resources', 'importlib_metadata']),
  ...modules(R_IMPORT, ['ensurepip', 'pip', 'setuptools', 'distutils', 'numpy.distutils', 'venv']),
  ...modules(R_FILE, ['shutil', 'tempfile', 'fileinput', 'zipfile', 'tarfile', 'shelve', 'dbm', 'anydbm']),
  ...modules(R_FILE, ['sqlite3', 'pathlib', 'glob', 'logging.config', 'logging.handlers']),
  ...modules(R_NET, [
    'socket',
    '_socket',
    'ssl',
    'urllib',
    'urllib2',
    'urllib3',
    'httplib',
    'http',
    'requests',
  ]),
  ...modules(R_NET, ['httpx', 'aiohttp', 'ftplib', 'smtplib', 'smtpd', 'telnetlib', 'poplib', 'imaplib']),
  ...modules(R_NET, [
    'nntplib',
    'xmlrpc',
    'xmlrpclib',
    'socketserver',
    'SocketServer',
    'webbrowser',
    'wsgiref',
  ]),
  ...modules(R_NET, [
    'BaseHTTPServer',
    'SimpleHTTPServer',
    'CGIHTTPServer',
    'asyncore',
    'asynchat',
    'paramiko',
  ]),
  ...modules(R_DESER, [
    'pickle',
    '_pickle',
    'cPickle',
    'pickletools',
    'dill',
    'cloudpickle',
    'jsonpickle',
    'yaml',
  ]),
  ...modules(R_DESER, ['joblib.externals', 'torch.utils.data.datapipes.utils.decoder']),
  ...modules(R_EXEC, [
    'torch.hub',
    'torch.jit',
    'torch.package',
    'torch.utils.cpp_extension',
    'torch._dynamo',
  ]),
  ...modules(R_EXEC, ['torch._inductor', 'torch.utils.bottleneck', 'torch.utils.collect_env']),
  ...modules(R_EXEC, ['torch.utils._config_module', 'pandas.io', 'pandas.core.computation']),
  ...modules(R_EXEC, ['sklearn.utils._testing', 'sklearn.utils.testing']),
  ...modules(R_DESER, ['torch.serialization']),

  ...dangerous(
    R_EXEC,
    ['eval', 'exec', 'execfile', 'compile', '__import__', 'breakpoint', 'input'].map((n) => `builtins.${n}`),
  ),
  ...dangerous(
    R_EXEC,
    ['raw_input', 'apply', 'help', 'reload', 'exit', 'quit', '__build_class__'].map((n) => `builtins.${n}`),
  ),
  ...dangerous(
    R_ATTR,
    ['getattr', 'setattr', 'delattr', 'globals', 'locals', 'vars'].map((n) => `builtins.${n}`),
  ),
  ...dangerous(R_NATIVE, ['builtins.memoryview']),
  ...dangerous(R_FILE, [
    'builtins.open',
    'builtins.file',
    'io.open',
    'io.open_code',
    'io.FileIO',
    '_io.open',
  ]),
  ...dangerous(R_FILE, [
    '_io.open_code',
    '_io.FileIO',
    'codecs.open',
    'gzip.open',
    'gzip.GzipFile',
    'bz2.open',
  ]),
  ...dangerous(R_FILE, ['bz2.BZ2File', 'lzma.open', 'lzma.LZMAFile', 'logging.FileHandler']),
  ...dangerous(R_ATTR, [
    'operator.attrgetter',
    'operator.methodcaller',
    '_operator.attrgetter',
    '_operator.methodcaller',
  ]),
  ...dangerous(R_EXEC, ['operator.call', '_operator.call']),
  ...dangerous(R_CALL, [
    'functools.reduce',
    '_functools.reduce',
    'itertools.starmap',
    'builtins.map',
    'builtins.filter',
  ]),
  ...dangerous(R_CALL, ['functools.cmp_to_key', '_functools.cmp_to_key']),
  ...dangerous(R_PROC, ['uuid._popen', 'uuid._get_command_stdout']),
  ...dangerous(R_FILE, [
    'numpy.save',
    'numpy.savez',
    'numpy.savez_compressed',
    'numpy.savetxt',
    'numpy.fromfile',
  ]),
  ...dangerous(R_FILE, [
    'numpy.loadtxt',
    'numpy.genfromtxt',
    'numpy.DataSource',
    'numpy.core.multiarray.fromfile',
  ]),
  ...dangerous(R_FILE, ['numpy._core.multiarray.fromfile', 'numpy.ndarray.tofile']),
  ...dangerous(R_DESER, [
    'numpy.load',
    'numpy.lib.npyio.load',
    'numpy.lib._npyio_impl.load',
    'numpy.lib.format.read_array',
  ]),
  ...dangerous(R_DESER, ['torch.load', 'torch.storage._load_from_bytes']),
  ...dangerous(R_FILE, ['torch.save']),
  ...dangerous(R_EXEC, ['torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression']),
  ...dangerous(R_NATIVE, ['torch.classes.load_library', 'torch.ops.load_library']),
  ...['joblib', 'sklearn.externals.joblib'].flatMap((m) => [
    ...dangerous(
      R_DESER,
      ['load', 'numpy_pickle.load', 'numpy_pickle._unpickle'].map((n) => `${m}.${n}`),
    ),
    ...dangerous(
      R_FILE,
      ['dump', 'numpy_pickle.dump'].map((n) => `${m}.${n}`),
    ),
  ]),
  ...dangerous(R_DESER, ['pandas.read_pickle', 'pandas.io.pickle.read_pickle']),
  ...dangerous(R_FILE, ['pandas.to_pickle']),
  ...dangerous(R_EXEC, ['pandas.eval']),
  { name: /^pandas\.read_/, severity: 'dangerous', reason: 'reads files or URLs' },
  { name: /^sklearn\.datasets\.fetch_/, severity: 'dangerous', reason: R_NET },
  { name: /^copyreg\._reconstructor\./, severity: 'dangerous', reason: R_INTERP },
  ...['numpy.memmap', 'numpy.core.memmap.memmap', 'numpy._core.memmap.memmap'].map((name): PolicyRule => ({
    name,
    severity: 'dangerous',
    reason: 'creates or overwrites a memory-mapped file',
    when: 'called',
  })),

  // Safe exceptions inside dangerous modules: plain value classes (constructing one touches nothing).
  ...safe('stdlib value type', ['types.SimpleNamespace', 'pathlib.PurePath', 'pathlib.PurePosixPath']),
  ...safe('stdlib value type', [
    'pathlib.PureWindowsPath',
    'pathlib.Path',
    'pathlib.PosixPath',
    'pathlib.WindowsPath',
  ]),
  ...safe(
    'builtin data type',
    ['set', 'frozenset', 'bytes', 'bytearray', 'complex', 'range', 'slice', 'list', 'dict'].map(
      (n) => `builtins.${n}`,
    ),
  ),
  ...safe(
    'builtin data type',
    ['tuple', 'int', 'float', 'str', 'bool', 'object', 'NotImplemented', 'Ellipsis'].map(
      (n) => `builtins.${n}`,
    ),
  ),
  ...safe(
    'builtin data type',
    ['type', 'property', 'staticmethod', 'classmethod'].map((n) => `builtins.${n}`),
  ),
  {
    name: /^builtins\.[A-Za-z]*(Error|Exception|Warning|Exit|Interrupt|Iteration)$/,
    severity: 'safe',
    reason: 'builtin exception class',
  },
  ...safe('object reconstruction', ['copyreg._reconstructor', 'copyreg.__newobj__', 'copyreg.__newobj_ex__']),
  ...safe('stdlib value type', [
    'array.array',
    'array._array_reconstructor',
    '_decimal.Decimal',
    'datetime.tzinfo',
  ]),
  ...safe(
    'stdlib value type',
    ['IPv4Address', 'IPv6Address', 'IPv4Network', 'IPv6Network', 'IPv4Interface', 'IPv6Interface'].map(
      (n) => `ipaddress.${n}`,
    ),
  ),
  ...safe('stdlib value type', [
    're._compile',
    'enum.Enum',
    'enum.IntEnum',
    'enum.Flag',
    'enum.IntFlag',
    'copy._reconstruct',
  ]),
  {
    name: /^collections\.(ChainMap|UserDict|UserList|UserString)$/,
    severity: 'safe',
    reason: 'stdlib container',
  },
  { name: /^collections\.abc\.[A-Za-z]+$/, severity: 'safe', reason: 'stdlib abstract class' },
  ...safe('time zone', [
    'pytz._p',
    'pytz._UTC',
    'pytz.FixedOffset',
    'dateutil.tz.tz.tzutc',
    'dateutil.tz.tz.tzoffset',
  ]),
  ...safe('time zone', ['dateutil.tz.tz.tzlocal']),
  {
    name: /^scipy\.sparse\.(_?[a-z]+\.)?(csr|csc|coo|bsr|dia|dok|lil)_(matrix|array)$/,
    severity: 'safe',
    reason: 'scipy sparse matrix class',
  },
  { name: 'sklearn.*', severity: 'safe', reason: 'scikit-learn class or function' },
];

/**
 * Attribute names that, reached through a dotted name (an attribute path, or getattr), call, load or
 * write something whatever object they hang off.
 */
const RISKY_ATTRIBUTE =
  /^(eval|exec\w*|system|popen\w*|spawn\w*|call|check_call|check_output|run\w*|load\w*|read_\w+|to_\w+|tofile|fromfile|save\w*|dump\w*|write\w*|open|remove|unlink|rmtree|rename|query|apply|pipe|getattr|setattr|delattr|__import__)$/;

const DUNDER = /^__\w+__$/;

/** A module rule ('os.*') covers the module and its submodules. */
interface CompiledRule {
  readonly severity: 'safe' | 'dangerous';
  readonly reason: string;
}

/** The rules of the built-in table and the families, indexed for lookup. */
export class Policy {
  private readonly exact = new Map<string, CompiledRule>();
  private readonly calledExact = new Map<string, CompiledRule>();
  private readonly modules = new Map<string, CompiledRule>();
  private readonly patterns: { re: RegExp; rule: CompiledRule }[] = [];
  /** Dangerous module names, for spotting aliases inside attribute paths (`random._os.system`). */
  private readonly dangerousModules = new Set<string>();
  private readonly cache = new Map<string, Verdict>();
  /** Every rule, as given (tests check loads and scan agree on each). */
  readonly rules: readonly PolicyRule[];

  constructor(rules: readonly PolicyRule[], families: readonly Family[] = []) {
    const all: PolicyRule[] = [...rules];
    for (const f of families) {
      // A family's decoding handlers name the globals it rebuilds as data: safe unless a rule says otherwise.
      for (const name of Object.keys(f.globals ?? {}))
        all.push({ name, severity: 'safe', reason: `${f.name} value` });
      all.push(...(f.rules ?? []));
    }
    this.rules = all;
    for (const r of all) {
      const rule: CompiledRule = { severity: r.severity, reason: r.reason };
      if (r.name instanceof RegExp) this.patterns.push({ re: r.name, rule });
      else if (r.name.endsWith('.*')) {
        const m = r.name.slice(0, -2);
        if (!this.modules.has(m) || r.severity === 'dangerous') this.modules.set(m, rule);
        if (r.severity === 'dangerous') this.dangerousModules.add(m);
      } else {
        const target = r.when === 'called' ? this.calledExact : this.exact;
        // A dangerous rule for a name wins over a safe one, whatever their order.
        if (!target.has(r.name) || r.severity === 'dangerous') target.set(r.name, rule);
      }
    }
  }

  /** The severity of a name written exactly (no patterns): what the writer may emit without allowGlobals. */
  isExactlySafe(full: string): boolean {
    return this.exact.get(full)?.severity === 'safe';
  }

  /**
   * Grade `module.name` as the stream names it. Below protocol 3 the unpickler reads Python 2 names
   * through CPython's rename tables; the renamed name decides, and the name as written still counts
   * when it is dangerous (a stream can announce any protocol).
   * @example
   * defaultPolicy().classify('os', 'system', 'called').severity; // 'dangerous'
   */
  classify(module: string, name: string, use: GlobalUse = 'referenced'): Verdict {
    const key = `${use}\n${module}\n${name}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const raw = this.classifyRaw(module, name);
    const r = renamedGlobal(module, name);
    let v = raw;
    if (r !== undefined) {
      const mapped = this.classifyRaw(r[0], r[1]);
      v = raw.severity === 'dangerous' ? worse(mapped, raw) : mapped;
    }
    if (use === 'called') {
      const full = r !== undefined ? `${r[0]}.${r[1]}` : `${module}.${name}`;
      const c = this.calledExact.get(full) ?? this.calledExact.get(`${module}.${name}`);
      if (c !== undefined) v = worse(v, c);
    }
    if (use === 'built') v = worse(v, BUILT_VERDICT);
    if (this.cache.size < 10_000) this.cache.set(key, v);
    return v;
  }

  private moduleRule(full: string): [string, CompiledRule] | undefined {
    let cut = full.lastIndexOf('.');
    while (cut > 0) {
      const head = full.slice(0, cut);
      const hit = this.modules.get(head);
      if (hit !== undefined) return [head, hit];
      cut = full.lastIndexOf('.', cut - 1);
    }
    return undefined;
  }

  private classifyRaw(module: string, name: string): Verdict {
    const full = `${module}.${name}`;
    const parts = name.split('.');
    const exact = this.exact.get(full);
    if (exact?.severity === 'dangerous') return exact;
    const last = parts[parts.length - 1] as string;
    // `X.__new__` creates an uninitialised X, as NEWOBJ does (CPython writes it for classes with
    // __getnewargs_ex__ at protocols 2-3): it is as safe as the class it belongs to.
    if (parts.length > 1 && last === '__new__' && !parts.slice(0, -1).some((p) => DUNDER.test(p))) {
      const owner = this.classifyRaw(module, parts.slice(0, -1).join('.'));
      if (owner.severity === 'dangerous') return owner;
      return { severity: owner.severity, reason: `object creation (${owner.reason})` };
    }
    const dunder = parts.find((p) => DUNDER.test(p));
    if (dunder !== undefined && exact === undefined) {
      return { severity: 'dangerous', reason: `reaches the special attribute ${dunder}` };
    }
    for (const { re, rule } of this.patterns) if (rule.severity === 'dangerous' && re.test(full)) return rule;
    if (exact !== undefined) return exact;
    const mod = this.moduleRule(full);
    if (mod !== undefined && mod[1].severity === 'dangerous') {
      return { severity: 'dangerous', reason: `${mod[0]}: ${mod[1].reason}` };
    }
    const dotted = parts.length > 1;
    if (dotted) {
      if (RISKY_ATTRIBUTE.test(last))
        return { severity: 'dangerous', reason: `method reference ${last} (calls, loads or writes)` };
      if (module === 'builtins' || module === '__builtin__') {
        // No enum member or nested class lives on a builtin type: a dotted builtins name is a method.
        return {
          severity: 'dangerous',
          reason: `method ${name} of a builtin type (reaches interpreter code)`,
        };
      }
      // A harmless module can hold a dangerous one under an alias (`numpy.lib.npyio` + `os.system`,
      // `random` + `_os.system`, `numpy` + `_builtins.eval`).
      for (let i = 0; i < parts.length - 1; i++) {
        const bare = (parts[i] as string).replace(/^_+/, '');
        const seg = bare === 'bltns' ? 'builtins' : bare; // enum's alias of builtins
        if (this.dangerousModules.has(seg))
          return { severity: 'dangerous', reason: `${seg}: reached through an alias` };
        const aliased = this.exact.get(`${seg}.${parts.slice(i + 1).join('.')}`);
        if (aliased?.severity === 'dangerous') return aliased;
      }
    }
    for (const { re, rule } of this.patterns) if (re.test(full)) return rule;
    if (!dotted && mod !== undefined) return { severity: 'safe', reason: mod[1].reason };
    return UNKNOWN;
  }
}

const UNKNOWN: Verdict = { severity: 'unknown', reason: 'not in the allow-list' };

const BUILT_VERDICT: Verdict = {
  severity: 'dangerous',
  reason: 'BUILD sets attributes on the imported object itself',
};

const RANK: Record<Severity, number> = { safe: 0, unknown: 1, dangerous: 2 };

export function worse(a: Verdict, b: Verdict): Verdict {
  return RANK[b.severity] > RANK[a.severity] ? b : a;
}

/** `module name` after CPython's Python 2 -> 3 renaming (applied by the unpickler below protocol 3). */
export function renamedGlobal(module: string, name: string): [string, string] | undefined {
  const pair = NAME_MAPPING.get(`${module} ${name}`);
  if (pair !== undefined) {
    const sp = pair.indexOf(' ');
    return [pair.slice(0, sp), pair.slice(sp + 1)];
  }
  const m = IMPORT_MAPPING.get(module);
  return m !== undefined ? [m, name] : undefined;
}
