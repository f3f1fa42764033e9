/** The shapes of a scan report (src/tools/scan/index.ts makes them, the CLI prints them). */
import type { Family } from '../../family.js';

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
  /** The archive entry (`archive/data.pkl`) or legacy-torch part (`legacy:object`) it was found in. */
  entry?: string;
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
  /** A zip archive (torch.save, TorchScript, .npz) or legacy torch file whose pickles were scanned. */
  container?: 'zip' | 'legacy-torch';
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
  /** Your own families (as for `loads`/`dumps`): their rules join the policy table. */
  families?: readonly Family[];
}
