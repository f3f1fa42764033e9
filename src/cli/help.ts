/** Help texts of `picklejar` and its commands (printed by --help; the README quotes them). */

export const TOOL_HELP = `picklejar — inspect, check and convert Python pickle, joblib, .npy and PyTorch files without Python.
Nothing in the file is ever executed.

Usage:
  picklejar <command> [options] FILE...
  picklejar --help | --version
  picklejar <command> --help

Commands:
  show FILE        a readable tree of the decoded value: Python types, dict keys, object classes and
                   attributes, numpy arrays, pandas DataFrames, torch tensors
  json FILE        the value as JSON for jq and other tools, or as jsonpickle text (--jsonpickle)
  dis FILE         the opcode listing, the same text as \`python -m pickletools FILE\`; joblib files
                   are listed past their array data (which pickletools cannot read)
  scan FILE...     report the globals each file would import and flag dangerous ones; exit 1 if any
                   file is dangerous (for gating uploads in CI)
  convert IN OUT   re-write as a pickle (any protocol) or a joblib file (any compressor), or convert
                   between .pt, .safetensors and .npz

FILE may be a pickle (protocols 0-5, Python 2 included), a joblib file (any compressor, old formats
with their .npy side files), a .npy or .npz file, a PyTorch file (torch.save zip archive, legacy
format, TorchScript archive) or a safetensors file. \`-\` reads stdin (or, as OUT, writes stdout).

Options for every command:
  -h, --help       show help
  --debug          print stack traces with errors
  --no-color       plain output (also: NO_COLOR=1); --color forces colours
  --progress       always show the progress line on stderr (reading, decompressing, decoding,
                   rendering, encoding, compressing, writing); --no-progress never
                   (default: shown when stderr is a terminal and the work takes over 1 s)
  -V, --version    print the version

Exit status:
  0  success (scan: no file is dangerous)
  1  scan found a dangerous file; or a failure unrelated to usage (e.g. a value that cannot be written)
  2  usage error
  3  a file cannot be read or decoded (scan: or cannot be scanned completely)

Examples:
  picklejar show examples/model.joblib
  picklejar show --depth 2 --items 5 data.pkl
  picklejar json data.pkl | jq '.frame'
  picklejar dis model.pkl | less
  picklejar scan --json uploads/*.pkl
  picklejar convert model.joblib model.p2.pkl --protocol 2
  picklejar convert model.pt model.safetensors
  curl -s https://example.org/model.pkl | picklejar scan -
`;

export const SHOW_HELP = `Usage: picklejar show [options] FILE

Print a readable tree of the value in FILE as picklejar decodes it: Python type names (list, tuple,
dict, set, bytes, …), dict keys, foreign objects with their class (e.g.
sklearn.linear_model._logistic.LogisticRegression) and attributes, numpy arrays with dtype, shape,
size and a few values, pandas DataFrames with columns, dtypes (as df.dtypes names them) and first
rows, torch tensors as "Tensor float32 (64, 3, 7, 7) [preview]" with notes (requires_grad, tied to or
sharing a storage with another tensor, views, quantization scale and zero point, sparse nnz, meta
tensors without data). The first line summarises the file: container, size, pickle protocol, and how
many objects and arrays it holds; for torch and safetensors files also the torch layout and era
(byteorder entry: torch ≥ 2.1), tensors and storages, parameter count and bytes by dtype. Numbers
print as Python's repr prints them: 0.0 and 1 differ, 1e-05, inf, nan. Sizes are in binary units
(KiB, MiB, GiB).

Lines fit the width of the terminal (--width; 100 columns when stdout is not a terminal): array
previews and tables show fewer items, and longer lines end in "…".

Long containers are cut ("… 995 more"); containers deeper than --depth are shown on one line with
"[…]". An object reached a second time is printed once: its first line gets an anchor "&N" and later
occurrences read "*N (same object as above)", or "*N (cycle: contains itself)" inside itself.

Options:
  --depth N        levels below the top that are expanded (default 8)
  --items N        items shown per list, tuple, set or dict (default 20); DataFrame rows: min(N, 10);
                   object attributes: up to max(N, 100)
  --width N        characters per line (default: the terminal's width, or 100 when stdout is not a
                   terminal); 0 for no limit
  --inert          decode code-running globals (os.system, builtins.eval, …) as inert references
                   instead of refusing the file (nothing is executed either way; see also \`scan\`)
  --all            every pickle in the file (several pickle.dump calls into one file), not only
                   the first
  --encoding ENC   how Python 2 str decodes: ascii (default, as Python 3 does), latin1 (text; what
                   Python 2 numpy arrays and datetimes need), bytes (str as bytes) or utf-8
  --lossless       accepted for compatibility: the file is always decoded losslessly (ints and
                   floats told apart, big ints exact)
  --lazy           open FILE lazily: arrays and tensors stored uncompressed (joblib, .npy, .npz
                   entries saved by np.savez, torch and safetensors files) stay in the file, and the
                   tree prints their dtype and shape with "(not loaded)" instead of a preview (those
                   of 1 MiB or less are read and previewed). The default for files of 64 MiB or more
                   and for torch, safetensors and .npz files, so a multi-GB file shows in well under a
                   second; compressed joblib files are always read whole
  --no-lazy        read every array now (previews for all), whatever the file size
  --no-color       no ANSI colours (default: colours on a terminal unless NO_COLOR is set)

Examples:
  picklejar show examples/model.joblib
  picklejar show --depth 3 --items 3 examples/data.pkl
  picklejar show --width 0 model.pkl > model.txt
  picklejar show checkpoint.pt
  picklejar show --no-lazy weights.joblib
  cat data.pkl | picklejar show -
`;

export const JSON_HELP = `Usage: picklejar json [options] FILE

Print the value in FILE as JSON (the library's toPlainJson). By default the JSON reads as Python's
json.dumps writes it, so jq and other tools take it as is:

  dict keys        every dict is an object; non-str keys are stringified as json.dumps does
                   (1 -> "1", 1.5 -> "1.5", True -> "true", None -> "null"); other keys (tuples,
                   bytes, …) as their Python repr ("(1, 2)")
  floats           as Python's repr writes them (1.0, 1e-05); nan, inf and -inf: see --nan
  ints             exact; beyond ±(2^53 - 1) (where jq and JavaScript round): see --big-ints
  lists, tuples,   arrays
  sets

What json.dumps cannot write is a "$"-marked object: bytes {"$bytes": "<base64>"}, Python
objects {"$class": "module.name", …attributes}, numpy arrays {"$ndarray": {"dtype", "shape",
"data"}} (float dtypes give floats, int dtypes ints), torch tensors {"$tensor": {"dtype", "shape",
"data"}} (with requires_grad, quantization, device when set), DataFrames {"$dataframe": {"columns",
"index", "data"}}, datetimes {"$datetime": "<isoformat>"}, class references {"$global": "m.name"};
a second occurrence of the same container (shared or cyclic) is {"$ref": "#/json/pointer/to/the/
first"}. Dict keys and attributes that start with "$" get one more "$". The view is lossy: it
cannot be turned back into the pickle (use --jsonpickle for that).

With --tagged, nothing is ambiguous: dicts with non-str keys are {"$map": [[key, value], …]},
nan/inf/-inf are {"$float": "nan"} / {"$float": "inf"} / {"$float": "-inf"}, and ints beyond
±(2^53 - 1) are {"$int": "<digits>"}.

With --jsonpickle: the text Python's jsonpickle 3.x decodes back to the same value
(jsonpickle.decode(text, keys=True) with the numpy handlers registered).

Options:
  --indent N       spaces per level (0-10; default 2; 0: one line; jsonpickle: one line unless
                   given). Levels below the 32nd are written on one line, so deep nesting does not
                   multiply the output
  --nan MODE       nan, inf and -inf as: null (default; what jq and JSON.parse read), string
                   ("NaN", "Infinity", "-Infinity"), literal (bare NaN / Infinity, json.dumps'
                   default: not JSON, jq rejects it) or error (refuse, as allow_nan=False; exit 1)
  --big-ints MODE  ints beyond ±(2^53 - 1) as: string (default; exact digits in quotes) or number
                   (exact digits as a JSON number, as json.dumps writes them; jq and JavaScript
                   read them as the nearest double)
  --tagged         the $-marker form described above (--nan and --big-ints do not apply)
  --depth N        containers more than N levels below the top become {"$truncated": kind,
                   "size": n}
  --array-items N  numpy arrays and tensors with more elements are cut to their first N, flat, under "head"
                   with "truncated": true (default 1000); all: never cut
  --jsonpickle     jsonpickle text instead of the plain view
  --inert          decode code-running globals as inert references instead of refusing the file
  --encoding ENC   how Python 2 str decodes: ascii (default, as Python 3 does), latin1 (text; what
                   Python 2 numpy arrays and datetimes need), bytes (str as bytes) or utf-8
  --lazy           open FILE lazily (as \`show --lazy\`): each array is read from the file when its
                   turn comes in the output; the default for files of 64 MiB or more
  --no-lazy        read every array before writing anything

Examples:
  picklejar json examples/data.pkl | jq '.flags["1"]'
  picklejar json --indent 0 model.joblib | jq '.steps[1][1].coef_["$ndarray"].data'
  picklejar json --array-items all --nan string data.pkl > data.json
  picklejar json --tagged data.pkl
  picklejar json --jsonpickle --indent 2 model.pkl > model.json
`;

export const DIS_HELP = `Usage: picklejar dis [options] FILE

Print the opcode listing of the pickle in FILE: the same text as \`python -m pickletools FILE\` (byte
offsets, opcodes, arguments, MARK indentation, memo checks, "highest protocol among opcodes"). Where
pickletools stops with an error, the listing up to that point is printed and the error is reported
on stderr (exit status 3).

Joblib files put each numpy array's bytes into the stream right after the BUILD of its
NumpyArrayWrapper, where pickletools stops ("opcode … unknown"). picklejar knows the array's size,
so it prints one line for the data and goes on:

    224: [array payload: 40 bytes, float64 (5,), padding 2]

(the offset is where the data starts; "padding 2": the length byte and the 2 padding bytes before
it). An object array's payload is a pickle of its own, listed in place through its STOP.

Files are read in pieces (array data is skipped, not read), so listing a file of any size takes
little memory. Compressed joblib files are decompressed first (a note on stderr says so); offsets
are then positions in the decompressed stream.

Zip archives (torch.save, TorchScript, .npz) list each pickle entry under a heading line
("--- archive/data.pkl ---", offsets within the entry), then a line about the raw storage entries;
.npz object arrays list their pickle. Legacy torch files list their five pickles (magic number,
protocol version, sys_info, the object, storage keys; offsets from the start of the file, as
repeated pickletools.dis(f) calls print them), then a line about the raw storages that follow.

Options:
  -a, --annotate   append a short description to each line (layout as pickletools -a; the
                   descriptions are picklejar's own wording)
  -l, --indentlevel N
                   blanks per MARK level (default 4)
  --all            every pickle in the file, not only the first
  --pickletools    stop at joblib array data as pickletools does (no payload lines)

Examples:
  picklejar dis model.pkl
  picklejar dis big-model.joblib | head -50
  picklejar dis --all several-pickles.bin
`;

export const SCAN_HELP = `Usage: picklejar scan [options] FILE...

Statically list every global (module.name) each file would import when unpickled in Python, how it
is used (called, referenced, or built into), its byte offset, and a severity: dangerous (runs code,
touches files, processes or the network, imports modules, starts another deserializer, …), unknown
(not on either list), or safe (known data classes of builtins, numpy, pandas, scikit-learn, …).
Nothing is decoded or executed. Joblib files of every compressor are decompressed first; every
pickle inside a torch archive, TorchScript archive, .npz or legacy torch file is scanned, and the
report groups globals by the entry they are in.

A clean report means no known-dangerous global, not a proof that loading the file in Python is
harmless.

Exit status: 1 if any file is dangerous (with --strict: or holds an unknown global); otherwise 3 if
any file could not be read or scanned completely (malformed or truncated); otherwise 0.

Options:
  --json           one JSON document with a report per file (machine-readable)
  --strict         treat globals of unknown severity as failures (exit 1)
  -q, --quiet      print nothing; only the exit status tells

Examples:
  picklejar scan model.joblib
  picklejar scan --json uploads/*.pkl > scan.json
  picklejar scan -q "$FILE" || echo "refusing $FILE"
`;

export const CONVERT_HELP = `Usage: picklejar convert [options] IN OUT

Read IN (anything \`show\` opens) and write it to OUT as a pickle, a joblib file, a PyTorch file (.pt),
a safetensors file or an .npz. OUT \`-\` writes to stdout. OUT is written through a temporary file
renamed into place, so it is never left half-written.

Memory: .pt, .safetensors and .npz inputs written as one of those formats are read by position and
written one tensor at a time, so memory stays near the largest tensor whatever the file size. Other
conversions read IN's arrays into memory (a file by position, never as one whole-file buffer) and
stream OUT to its file as it is encoded: memory near the size of IN's arrays, not twice the file.
OUT \`-\` is encoded in memory first. safetensors and .npz output
need a dict of tensors or numeric arrays: a checkpoint's 'state_dict' entry is used when there is
one (as Hugging Face's converter does), tied weights are written once (safetensors records the
removed names in its metadata, and .pt output from safetensors restores them as the same tensor),
and anything else (a whole model object, a non-tensor value, sparse or quantized tensors, dtypes the
format lacks) is refused with the path of the value (exit 1). Pickle and joblib output cannot hold
torch tensors.

IN is decoded losslessly and written with allowGlobals: foreign objects (e.g. scikit-learn
estimators) keep their class, arguments and state and are written back as the same Python class
references, so Python gets an equal object when it loads OUT. This also means OUT imports the same
globals as IN: convert refuses inputs with code-running globals (check with \`picklejar scan\`).

Options:
  --to FORMAT      pickle, joblib, pt, safetensors or npz (default: pt for .pt/.pth, safetensors
                   for .safetensors, npz for .npz, joblib if OUT ends in .joblib or a compressor
                   extension .z .gz .bz2 .lzma .xz .lz4, else pickle)
  --protocol N     pickle protocol 0-5 (default 4; .pt: data.pkl's, default 2 as torch.save)
  --compress METHOD[:LEVEL]
                   joblib compression: zlib, gzip, bz2, lzma, xz or lz4, optionally with a level
                   1-9 (e.g. gzip:3); a bare level N means zlib:N. Implies --to joblib unless OUT
                   is an .npz, where zlib means np.savez_compressed.
  --encoding ENC   how Python 2 str decodes: ascii (default, as Python 3 does), latin1 (text; what
                   Python 2 numpy arrays and datetimes need), bytes (str as bytes) or utf-8

Examples:
  picklejar convert model.joblib model.pkl --protocol 2
  picklejar convert data.pkl data.joblib --compress gzip:3
  picklejar convert old-py2.pkl - --protocol 4 --encoding latin1 > new.pkl
  picklejar convert model.pt model.safetensors
  picklejar convert model.safetensors model.pt
  picklejar convert arrays.joblib arrays.npz --compress zlib
`;

export const HELP: Record<string, string> = {
  show: SHOW_HELP,
  json: JSON_HELP,
  dis: DIS_HELP,
  scan: SCAN_HELP,
  convert: CONVERT_HELP,
};
