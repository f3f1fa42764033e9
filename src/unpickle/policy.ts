/**
 * Which globals the decoder refuses by default: those whose only purpose in a pickle is to run code,
 * touch processes, files or the network, import modules, or start another deserializer. Nothing is
 * ever executed by picklejar; refusing them makes a hostile file fail loudly instead of decoding into
 * something that looks harmless.
 */

/** Modules refused entirely (and their submodules). */
const DANGEROUS_MODULES = new Set([
  'os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', 'pty', 'commands', 'popen2', 'sys', 'shutil',
  'socket', 'ssl', 'asyncio', 'multiprocessing', 'threading', '_thread', 'thread', 'signal', 'ctypes',
  'importlib', 'imp', 'pkgutil', 'zipimport', 'runpy', 'code', 'codeop', 'marshal', 'pickle', '_pickle',
  'cPickle', 'pickletools', 'shelve', 'dill', 'cloudpickle', 'webbrowser', 'http', 'urllib', 'urllib2',
  'httplib', 'ftplib', 'smtplib', 'telnetlib', 'poplib', 'imaplib', 'nntplib', 'xmlrpc', 'requests',
  'pydoc', 'bdb', 'pdb', 'trace', 'timeit', 'profile', 'cProfile', 'tempfile', 'glob', 'fileinput',
  'linecache', 'gc', 'inspect', 'venv', 'ensurepip', 'distutils', 'setuptools',
  'pip', 'platform', 'sysconfig', 'site', 'tkinter', 'Tkinter', 'torch.serialization', 'yaml', 'jinja2',
]);

/** Individual names refused in otherwise harmless modules. */
const DANGEROUS_NAMES = new Set([
  'builtins.eval', 'builtins.exec', 'builtins.compile', 'builtins.__import__', 'builtins.open',
  'builtins.input', 'builtins.breakpoint', 'builtins.globals', 'builtins.locals', 'builtins.vars',
  'builtins.setattr', 'builtins.delattr', 'builtins.help', 'builtins.exit', 'builtins.quit',
  'builtins.memoryview', 'builtins.execfile', 'builtins.file', 'builtins.reload', 'builtins.apply',
  '__builtin__.eval', '__builtin__.execfile', '__builtin__.file', '__builtin__.apply',
  'io.open', 'io.FileIO', '_io.open', '_io.FileIO', 'codecs.open', 'pathlib.Path', 'pathlib.PosixPath',
  'pathlib.WindowsPath', 'operator.attrgetter', 'operator.methodcaller', '_operator.attrgetter',
  '_operator.methodcaller', 'functools.reduce', 'numpy.load', 'numpy.loadtxt', 'numpy.fromfile',
  'numpy.save', 'numpy.testing._private.utils.runstring', 'joblib.load', 'torch.load', 'pandas.read_pickle',
  'pandas.io.pickle.read_pickle', 'copyreg._reconstructor.__globals__', 'logging.config.listen',
  'zipfile.ZipFile', 'tarfile.open', 'tarfile.TarFile', 'types.CodeType', 'types.FunctionType',
  'types.LambdaType', 'types.MethodType', 'types.ModuleType', 'types.BuiltinFunctionType',
]);

/** Last steps of an attribute path that run code or commands whatever object they hang off. */
const RISKY_LAST_ATTRIBUTE = new Set(['eval', 'exec', 'execfile', 'system', 'popen', 'getoutput', 'getstatusoutput', '__import__']);

/** True when the global `module.name` is refused by default. */
export function isDangerousGlobal(module: string, name: string): boolean {
  const full = module + '.' + name;
  if (full === 'torch.serialization._get_layout') return false; // SHIM (torch helper): a safe name in a refused module, until family rules land
  if (DANGEROUS_NAMES.has(full)) return true;
  // `builtins.getattr` is allowed only through its own handler, which resolves getattr(cls, 'X') to
  // the global `cls.X` (how Python 3.12+ pickles Enum members) and refuses everything else.
  let m = module;
  while (true) {
    if (DANGEROUS_MODULES.has(m)) return true;
    const dot = m.lastIndexOf('.');
    if (dot < 0) break;
    m = m.slice(0, dot);
  }
  // A dotted name is an attribute path (protocol 4 resolves it, as does getattr): a harmless module
  // can hold a dangerous one under an alias (`numpy.lib.npyio` + `os.system`, `random` + `_os.system`,
  // `numpy` + `_builtins.eval`), and the path's last step can be a code runner whatever reached it.
  const parts = name.split('.');
  if (parts.length > 1) {
    if (RISKY_LAST_ATTRIBUTE.has(parts[parts.length - 1] as string)) return true;
    for (let i = 0; i < parts.length - 1; i++) {
      const bare = (parts[i] as string).replace(/^_+/, '');
      const seg = bare === 'bltns' ? 'builtins' : bare; // enum's alias of builtins
      if (DANGEROUS_MODULES.has(seg)) return true;
      if (DANGEROUS_NAMES.has(`${seg}.${parts.slice(i + 1).join('.')}`)) return true;
    }
  }
  // Dunder attribute paths reach code objects and module globals (`f.__globals__`, `__builtins__`).
  return /(^|\.)__(globals|builtins|code|subclasses|loader|import|class|base|bases|mro|dict|getattribute|reduce|reduce_ex|init|new|call)__($|\.)/.test(name);
}
