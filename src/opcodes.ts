/**
 * The one opcode table. The decoder's switch, the encoder's constants and the disassembler all read
 * from here; `test/opcodes.test.ts` proves the decoder handles exactly these opcodes.
 */

/** How an opcode's argument is encoded (names as in CPython's pickletools). */
export type ArgKind =
  | 'none'
  | 'uint1'
  | 'uint2'
  | 'uint4'
  | 'uint8'
  | 'int4'
  | 'long1'
  | 'long4'
  | 'float8'
  | 'string1'
  | 'string4'
  | 'bytes1'
  | 'bytes4'
  | 'bytes8'
  | 'bytearray8'
  | 'unicodestring1'
  | 'unicodestring4'
  | 'unicodestring8'
  | 'decimalnl_short'
  | 'decimalnl_long'
  | 'floatnl'
  | 'stringnl'
  | 'stringnl_noescape'
  | 'stringnl_noescape_pair'
  | 'unicodestringnl';

/** Stack items as pickletools names them; 'mark' is the MARK object, 'stackslice' the items above it. */
export type StackItem =
  | 'any'
  | 'mark'
  | 'stackslice'
  | 'int'
  | 'bool'
  | 'int_or_bool'
  | 'float'
  | 'str'
  | 'bytes'
  | 'bytes_or_str'
  | 'bytearray'
  | 'buffer'
  | 'None'
  | 'tuple'
  | 'list'
  | 'dict'
  | 'set'
  | 'frozenset';

export interface OpcodeInfo {
  readonly code: number;
  readonly name: string;
  readonly arg: ArgKind;
  /** Lowest protocol that introduced the opcode. */
  readonly proto: number;
  readonly before: readonly StackItem[];
  readonly after: readonly StackItem[];
  readonly doc: string;
}

function op(
  char: string | number,
  name: string,
  arg: ArgKind,
  proto: number,
  before: StackItem[],
  after: StackItem[],
  doc: string,
): OpcodeInfo {
  const code = typeof char === 'number' ? char : char.charCodeAt(0);
  return { code, name, arg, proto, before, after, doc };
}

// Order follows pickletools' table so that generated listings read the same way.
export const OPCODES: readonly OpcodeInfo[] = [
  op(
    'I',
    'INT',
    'decimalnl_short',
    0,
    [],
    ['int_or_bool'],
    'Push an integer or bool (text, 00/01 are False/True).',
  ),
  op('J', 'BININT', 'int4', 1, [], ['int'], 'Push a four-byte signed integer.'),
  op('K', 'BININT1', 'uint1', 1, [], ['int'], 'Push a one-byte unsigned integer.'),
  op('M', 'BININT2', 'uint2', 1, [], ['int'], 'Push a two-byte unsigned integer.'),
  op('L', 'LONG', 'decimalnl_long', 0, [], ['int'], 'Push a long integer (text, optional trailing L).'),
  op(0x8a, 'LONG1', 'long1', 2, [], ['int'], "Long integer, two's complement, 1-byte length."),
  op(0x8b, 'LONG4', 'long4', 2, [], ['int'], "Long integer, two's complement, 4-byte length."),
  op('S', 'STRING', 'stringnl', 0, [], ['bytes_or_str'], 'Push a Python 2 string from a quoted literal.'),
  op('T', 'BINSTRING', 'string4', 1, [], ['bytes_or_str'], 'Push a Python 2 string, 4-byte length.'),
  op('U', 'SHORT_BINSTRING', 'string1', 1, [], ['bytes_or_str'], 'Push a Python 2 string, 1-byte length.'),
  op('B', 'BINBYTES', 'bytes4', 3, [], ['bytes'], 'Push bytes, 4-byte length.'),
  op('C', 'SHORT_BINBYTES', 'bytes1', 3, [], ['bytes'], 'Push bytes, 1-byte length.'),
  op(0x8e, 'BINBYTES8', 'bytes8', 4, [], ['bytes'], 'Push bytes, 8-byte length.'),
  op(0x96, 'BYTEARRAY8', 'bytearray8', 5, [], ['bytearray'], 'Push a bytearray, 8-byte length.'),
  op(0x97, 'NEXT_BUFFER', 'none', 5, [], ['buffer'], 'Push the next out-of-band buffer.'),
  op(0x98, 'READONLY_BUFFER', 'none', 5, ['buffer'], ['buffer'], 'Make the top buffer read-only.'),
  op('N', 'NONE', 'none', 0, [], ['None'], 'Push None.'),
  op(0x88, 'NEWTRUE', 'none', 2, [], ['bool'], 'Push True.'),
  op(0x89, 'NEWFALSE', 'none', 2, [], ['bool'], 'Push False.'),
  op('V', 'UNICODE', 'unicodestringnl', 0, [], ['str'], 'Push a str from a raw-unicode-escape line.'),
  op(0x8c, 'SHORT_BINUNICODE', 'unicodestring1', 4, [], ['str'], 'Push a UTF-8 str, 1-byte length.'),
  op('X', 'BINUNICODE', 'unicodestring4', 1, [], ['str'], 'Push a UTF-8 str, 4-byte length.'),
  op(0x8d, 'BINUNICODE8', 'unicodestring8', 4, [], ['str'], 'Push a UTF-8 str, 8-byte length.'),
  op('F', 'FLOAT', 'floatnl', 0, [], ['float'], 'Push a float from its repr.'),
  op('G', 'BINFLOAT', 'float8', 1, [], ['float'], 'Push a big-endian IEEE-754 double.'),
  op(']', 'EMPTY_LIST', 'none', 1, [], ['list'], 'Push an empty list.'),
  op('a', 'APPEND', 'none', 0, ['list', 'any'], ['list'], 'Append one item to the list below it.'),
  op(
    'e',
    'APPENDS',
    'none',
    1,
    ['list', 'mark', 'stackslice'],
    ['list'],
    'Extend a list by the stack slice.',
  ),
  op('l', 'LIST', 'none', 0, ['mark', 'stackslice'], ['list'], 'Build a list from the stack slice.'),
  op(')', 'EMPTY_TUPLE', 'none', 1, [], ['tuple'], 'Push ().'),
  op('t', 'TUPLE', 'none', 0, ['mark', 'stackslice'], ['tuple'], 'Build a tuple from the stack slice.'),
  op(0x85, 'TUPLE1', 'none', 2, ['any'], ['tuple'], 'Build a 1-tuple from the top item.'),
  op(0x86, 'TUPLE2', 'none', 2, ['any', 'any'], ['tuple'], 'Build a 2-tuple from the top two items.'),
  op(
    0x87,
    'TUPLE3',
    'none',
    2,
    ['any', 'any', 'any'],
    ['tuple'],
    'Build a 3-tuple from the top three items.',
  ),
  op('}', 'EMPTY_DICT', 'none', 1, [], ['dict'], 'Push an empty dict.'),
  op(
    'd',
    'DICT',
    'none',
    0,
    ['mark', 'stackslice'],
    ['dict'],
    'Build a dict from key/value pairs above the mark.',
  ),
  op('s', 'SETITEM', 'none', 0, ['dict', 'any', 'any'], ['dict'], 'Set one key/value pair.'),
  op(
    'u',
    'SETITEMS',
    'none',
    1,
    ['dict', 'mark', 'stackslice'],
    ['dict'],
    'Set key/value pairs from the slice.',
  ),
  op(0x8f, 'EMPTY_SET', 'none', 4, [], ['set'], 'Push an empty set.'),
  op(0x90, 'ADDITEMS', 'none', 4, ['set', 'mark', 'stackslice'], ['set'], 'Add the stack slice to a set.'),
  op(
    0x91,
    'FROZENSET',
    'none',
    4,
    ['mark', 'stackslice'],
    ['frozenset'],
    'Build a frozenset from the slice.',
  ),
  op('0', 'POP', 'none', 0, ['any'], [], 'Discard the top item.'),
  op('2', 'DUP', 'none', 0, ['any'], ['any', 'any'], 'Push a copy of the top item.'),
  op('(', 'MARK', 'none', 0, [], ['mark'], 'Push a mark.'),
  op('1', 'POP_MARK', 'none', 1, ['mark', 'stackslice'], [], 'Discard everything down to the last mark.'),
  op('g', 'GET', 'decimalnl_short', 0, [], ['any'], 'Push memo[n] (text index).'),
  op('h', 'BINGET', 'uint1', 1, [], ['any'], 'Push memo[n], 1-byte index.'),
  op('j', 'LONG_BINGET', 'uint4', 1, [], ['any'], 'Push memo[n], 4-byte index.'),
  op('p', 'PUT', 'decimalnl_short', 0, [], [], 'Store the top item in memo[n] (text index).'),
  op('q', 'BINPUT', 'uint1', 1, [], [], 'Store the top item in memo[n], 1-byte index.'),
  op('r', 'LONG_BINPUT', 'uint4', 1, [], [], 'Store the top item in memo[n], 4-byte index.'),
  op(0x94, 'MEMOIZE', 'none', 4, ['any'], ['any'], 'Store the top item at the next memo index.'),
  op(0x82, 'EXT1', 'uint1', 2, [], ['any'], 'Push the object of an extension code (1 byte).'),
  op(0x83, 'EXT2', 'uint2', 2, [], ['any'], 'Push the object of an extension code (2 bytes).'),
  op(0x84, 'EXT4', 'int4', 2, [], ['any'], 'Push the object of an extension code (4 bytes).'),
  op('c', 'GLOBAL', 'stringnl_noescape_pair', 0, [], ['any'], 'Push module.name (two text lines).'),
  op(0x93, 'STACK_GLOBAL', 'none', 4, ['str', 'str'], ['any'], 'Push module.name from two strings.'),
  op('R', 'REDUCE', 'none', 0, ['any', 'any'], ['any'], 'Call a callable with an argument tuple.'),
  op('b', 'BUILD', 'none', 0, ['any', 'any'], ['any'], 'Apply state to an object (setstate).'),
  op(
    'i',
    'INST',
    'stringnl_noescape_pair',
    0,
    ['mark', 'stackslice'],
    ['any'],
    'Instantiate module.name(*slice).',
  ),
  op('o', 'OBJ', 'none', 1, ['mark', 'any', 'stackslice'], ['any'], 'Instantiate slice[0](*slice[1:]).'),
  op(0x81, 'NEWOBJ', 'none', 2, ['any', 'any'], ['any'], 'cls.__new__(cls, *args).'),
  op(0x92, 'NEWOBJ_EX', 'none', 4, ['any', 'any', 'any'], ['any'], 'cls.__new__(cls, *args, **kwargs).'),
  op(0x80, 'PROTO', 'uint1', 2, [], [], 'Protocol version header.'),
  op('.', 'STOP', 'none', 0, ['any'], [], 'End of pickle; the top item is the result.'),
  op(0x95, 'FRAME', 'uint8', 4, [], [], 'The next n bytes are a frame of whole opcodes.'),
  op('P', 'PERSID', 'stringnl_noescape', 0, [], ['any'], 'Push persistent_load(text id).'),
  op('Q', 'BINPERSID', 'none', 1, ['any'], ['any'], 'Push persistent_load(top item).'),
];

/** Opcode info by byte value; undefined for bytes that are not opcodes. */
export const OPCODE_BY_CODE: readonly (OpcodeInfo | undefined)[] = (() => {
  const table: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);
  for (const info of OPCODES) table[info.code] = info;
  return table;
})();

/** Opcode info by name. */
const OPCODE_BY_NAME: ReadonlyMap<string, OpcodeInfo> = new Map(OPCODES.map((o) => [o.name, o]));

/** Name of an opcode byte, or a hex description for bytes that are not opcodes. */
export function opcodeName(code: number): string {
  return OPCODE_BY_CODE[code]?.name ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** Byte values, for the encoder (read from the table so the two can never drift). */
function code(name: string): number {
  const info = OPCODE_BY_NAME.get(name);
  if (!info) throw new Error(`no opcode ${name}`);
  return info.code;
}

export const Op = {
  MARK: code('MARK'),
  STOP: code('STOP'),
  POP: code('POP'),
  POP_MARK: code('POP_MARK'),
  DUP: code('DUP'),
  FLOAT: code('FLOAT'),
  INT: code('INT'),
  BININT: code('BININT'),
  BININT1: code('BININT1'),
  LONG: code('LONG'),
  BININT2: code('BININT2'),
  NONE: code('NONE'),
  PERSID: code('PERSID'),
  BINPERSID: code('BINPERSID'),
  REDUCE: code('REDUCE'),
  STRING: code('STRING'),
  BINSTRING: code('BINSTRING'),
  SHORT_BINSTRING: code('SHORT_BINSTRING'),
  UNICODE: code('UNICODE'),
  BINUNICODE: code('BINUNICODE'),
  APPEND: code('APPEND'),
  BUILD: code('BUILD'),
  GLOBAL: code('GLOBAL'),
  DICT: code('DICT'),
  EMPTY_DICT: code('EMPTY_DICT'),
  APPENDS: code('APPENDS'),
  GET: code('GET'),
  BINGET: code('BINGET'),
  INST: code('INST'),
  LONG_BINGET: code('LONG_BINGET'),
  LIST: code('LIST'),
  EMPTY_LIST: code('EMPTY_LIST'),
  OBJ: code('OBJ'),
  PUT: code('PUT'),
  BINPUT: code('BINPUT'),
  LONG_BINPUT: code('LONG_BINPUT'),
  SETITEM: code('SETITEM'),
  TUPLE: code('TUPLE'),
  EMPTY_TUPLE: code('EMPTY_TUPLE'),
  SETITEMS: code('SETITEMS'),
  BINFLOAT: code('BINFLOAT'),
  PROTO: code('PROTO'),
  NEWOBJ: code('NEWOBJ'),
  EXT1: code('EXT1'),
  EXT2: code('EXT2'),
  EXT4: code('EXT4'),
  TUPLE1: code('TUPLE1'),
  TUPLE2: code('TUPLE2'),
  TUPLE3: code('TUPLE3'),
  NEWTRUE: code('NEWTRUE'),
  NEWFALSE: code('NEWFALSE'),
  LONG1: code('LONG1'),
  LONG4: code('LONG4'),
  BINBYTES: code('BINBYTES'),
  SHORT_BINBYTES: code('SHORT_BINBYTES'),
  SHORT_BINUNICODE: code('SHORT_BINUNICODE'),
  BINUNICODE8: code('BINUNICODE8'),
  BINBYTES8: code('BINBYTES8'),
  EMPTY_SET: code('EMPTY_SET'),
  ADDITEMS: code('ADDITEMS'),
  FROZENSET: code('FROZENSET'),
  NEWOBJ_EX: code('NEWOBJ_EX'),
  STACK_GLOBAL: code('STACK_GLOBAL'),
  MEMOIZE: code('MEMOIZE'),
  FRAME: code('FRAME'),
  BYTEARRAY8: code('BYTEARRAY8'),
  NEXT_BUFFER: code('NEXT_BUFFER'),
  READONLY_BUFFER: code('READONLY_BUFFER'),
} as const;

/** Highest pickle protocol this library reads and writes. */
export const HIGHEST_PROTOCOL = 5;
/** Protocol `dumps` uses when none is given (Python 3.8–3.13's default). */
export const DEFAULT_PROTOCOL = 4;
