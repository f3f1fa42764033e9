/**
 * Reading the fixtures scripts/gen_fixtures.py wrote: fixtures/index.json, each fixture's json (its
 * description and how to load it) and its files.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tuple } from '../../src/python/values.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import type { Desc } from './describe.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export type Encoding = 'ascii' | 'latin1' | 'bytes' | 'utf-8';

export interface FixtureFile {
  /** Relative to fixtures/, e.g. `core/int_0.p2.pkl`. */
  readonly path: string;
  /** "pickle" (decodable with `loads`), "joblib", "buffer", or a family's own kind. */
  readonly kind: string;
  readonly protocol?: number;
  /** `pickletools.dis` text of the file, or null when pickletools itself refuses the stream. */
  readonly dis?: string | null;
  readonly dis_error?: string;
  /**
   * Offsets just after each STOP, present only when a file holds more than one pickle or trailing
   * bytes (so a prefix cut there is itself a complete stream).
   */
  readonly stops?: number[];
}

export interface FixtureEntry {
  readonly family: string;
  readonly name: string;
  readonly json: string;
  readonly files: FixtureFile[];
}

export interface EncodingResult {
  readonly desc?: Desc | Desc[];
  readonly error?: string;
}

export interface FixtureMeta {
  readonly name: string;
  /** The description at the highest protocol (null when the default decoding fails, see `error`). */
  readonly desc: Desc | Desc[] | null;
  /** Protocols whose description differs from `desc`. */
  readonly descs?: Record<string, Desc>;
  readonly protocols: number[];
  readonly note?: string;
  readonly raw?: boolean;
  /** Python refuses the stream with the default encoding (ascii) - with this message. */
  readonly error?: string;
  /** Streams with Python 2 STRING opcodes: what each `encoding` option gives. */
  readonly encodings?: Partial<Record<Encoding, EncodingResult>>;
  readonly multi?: boolean;
  readonly extensions?: Record<string, [string, string]>;
  readonly persistent?: { readonly returns: string; readonly pids: Desc[] };
  readonly buffers?: { readonly path: string; readonly readonly_source: boolean }[];
  readonly skipped?: Record<string, string>;
  readonly [extra: string]: unknown;
}

let indexCache: FixtureEntry[] | undefined;

/** Every fixture of every family, sorted by family and name. */
export function loadIndex(): FixtureEntry[] {
  if (!indexCache) {
    const text = readFileSync(join(FIXTURES_DIR, 'index.json'), 'utf8');
    indexCache = (JSON.parse(text) as { fixtures: FixtureEntry[] }).fixtures;
  }
  return indexCache;
}

export function fixturesOf(family: string): FixtureEntry[] {
  return loadIndex().filter((e) => e.family === family);
}

export function readFixtureBytes(path: string): Uint8Array {
  const b = readFileSync(join(FIXTURES_DIR, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function readMeta(entry: FixtureEntry): FixtureMeta {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, entry.json), 'utf8')) as FixtureMeta;
}

/** The pickle files of a fixture (kind "pickle"), with their protocols. */
export function pickleFiles(entry: FixtureEntry): (FixtureFile & { protocol: number })[] {
  return entry.files.filter((f): f is FixtureFile & { protocol: number } => f.kind === 'pickle');
}

/** The expected description of `meta` at `protocol`. */
export function expectedDesc(meta: FixtureMeta, protocol: number): Desc | Desc[] | null {
  return meta.descs?.[String(protocol)] ?? meta.desc;
}

/** What the fixtures' persistentLoad returns, mirroring gen_fixtures.persistent_result. */
export function persistentResult(pid: unknown): unknown {
  return tuple('persistent', pid);
}

export interface PreparedOptions {
  readonly options: LoadOptions;
  /** The pids passed to persistentLoad, in call order (reset by each `prepare` call). */
  readonly pids: unknown[];
}

/**
 * LoadOptions that reproduce how the generator loaded the fixture in Python: lossless, plus its
 * extensions table, persistent_load, out-of-band buffers, and the given STRING encoding.
 */
export function loadOptionsFor(
  meta: FixtureMeta,
  extra: { encoding?: Encoding; lossless?: boolean } = {},
): PreparedOptions {
  const pids: unknown[] = [];
  const options: Record<string, unknown> = { lossless: extra.lossless ?? true };
  if (extra.encoding !== undefined) options['encoding'] = extra.encoding;
  if (meta.extensions) {
    const table: Record<number, readonly [string, string]> = {};
    for (const [code, mn] of Object.entries(meta.extensions)) table[Number(code)] = [mn[0], mn[1]];
    options['extensions'] = table;
  }
  if (meta.persistent) {
    options['persistentLoad'] = (pid: unknown) => {
      pids.push(pid);
      return persistentResult(pid);
    };
  }
  if (meta.buffers) {
    // Copies: a decoder may hand the same memory back to the caller.
    options['buffers'] = meta.buffers.map((b) => readFixtureBytes(b.path).slice());
  }
  return { options: options as LoadOptions, pids };
}
