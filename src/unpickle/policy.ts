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

/** True when the global `module.name` is refused by default. */
export function isDangerousGlobal(module: string, name: string): boolean {
  const full = module + '.' + name;
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
  // Dunder attribute paths reach code objects and module globals (`f.__globals__`, `__builtins__`).
  return /(^|\.)__(globals|builtins|code|subclasses|loader|import|class|base|bases|mro|dict|getattribute|reduce|reduce_ex|init|new|call)__($|\.)/.test(name);
}
