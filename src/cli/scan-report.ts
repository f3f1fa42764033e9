/** Text and JSON forms of `picklejar scan` results. */
import type { ScanGlobal, ScanReport } from '../tools/scan/index.js';
import type { Style } from './style.js';

export type Verdict = 'dangerous' | 'unknown' | 'incomplete' | 'ok' | 'unreadable';

export interface FileResult {
  readonly file: string;
  readonly report?: ScanReport;
  /** Set when the file could not be read. */
  readonly error?: string;
  /** What the file is, when that replaces the protocol and pickle counts (`safetensors file, no pickle inside`). */
  readonly note?: string;
}

/** The verdict of one file. `strict` counts globals of unknown severity as failures. */
export function verdictOf(r: FileResult, strict: boolean): Verdict {
  if (!r.report) return 'unreadable';
  if (r.report.dangerous) return 'dangerous';
  if (!r.report.complete) return 'incomplete';
  if (strict && r.report.globals.some((g) => g.severity === 'unknown')) return 'unknown';
  return 'ok';
}

/** Exit status over all files: 1 if any is dangerous (or unknown with --strict), else 3 if any could not be read or fully scanned, else 0. */
export function scanExitCode(results: readonly FileResult[], strict: boolean): number {
  const verdicts = results.map((r) => verdictOf(r, strict));
  if (verdicts.some((v) => v === 'dangerous' || v === 'unknown')) return 1;
  if (verdicts.some((v) => v === 'unreadable' || v === 'incomplete')) return 3;
  return 0;
}

interface Group {
  name: string;
  severity: ScanGlobal['severity'];
  uses: Set<string>;
  offsets: number[];
  reason: string | undefined;
}

function groups(globals: readonly ScanGlobal[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const g of globals) {
    const name = g.resolved ?? `${g.module}.${g.name}`;
    const key = `${g.severity}\0${name}`;
    let grp = byKey.get(key);
    if (!grp) {
      grp = { name, severity: g.severity, uses: new Set(), offsets: [], reason: g.reason };
      byKey.set(key, grp);
    }
    grp.uses.add(g.use);
    grp.offsets.push(g.offset);
  }
  const rank = { dangerous: 0, unknown: 1, safe: 2 } as const;
  // Dangerous first, then unknown, then safe; each in stream order.
  return [...byKey.values()].sort(
    (a, b) => rank[a.severity] - rank[b.severity] || (a.offsets[0] as number) - (b.offsets[0] as number),
  );
}

function offsetsText(offsets: readonly number[]): string {
  const shown = offsets.slice(0, 4).join(', ');
  return offsets.length > 4 ? `${shown}, … (${offsets.length}×)` : shown;
}

/** The text report of one file. */
export function scanText(r: FileResult, strict: boolean, style: Style): string[] {
  const v = verdictOf(r, strict);
  if (!r.report) return [`${r.file}: ${style.bad('ERROR')} ${r.error ?? ''}`];
  const rep = r.report;
  const label =
    v === 'dangerous'
      ? style.bad('DANGEROUS')
      : v === 'unknown'
        ? style.warn('UNKNOWN GLOBALS')
        : v === 'incomplete'
          ? style.warn('INCOMPLETE')
          : style.good('ok');
  const counts = { dangerous: 0, unknown: 0, safe: 0 };
  for (const g of rep.globals) counts[g.severity]++;
  const countText =
    rep.globals.length === 0
      ? 'no globals'
      : `${rep.globals.length} global${rep.globals.length === 1 ? '' : 's'} (` +
        [
          counts.dangerous ? `${counts.dangerous} dangerous` : '',
          counts.unknown ? `${counts.unknown} unknown` : '',
          counts.safe ? `${counts.safe} safe` : '',
        ]
          .filter(Boolean)
          .join(', ') +
        ')';
  const about: string[] = [];
  if (rep.compression) about.push(`${rep.compression}-compressed`);
  about.push(`protocol ${rep.protocol}`);
  if (rep.pickles !== 1) about.push(`${rep.pickles} pickles`);
  if (rep.arrays > 0) about.push(`${rep.arrays} joblib array${rep.arrays === 1 ? '' : 's'}`);
  if (rep.container) about.push(rep.container === 'zip' ? 'zip archive' : 'legacy torch file');
  const lines = [`${r.file}: ${label} — ${countText}; ${r.note ?? about.join(', ')}`];
  // Archives: one block per pickle entry (offsets are within the entry).
  const entries = [...new Set(rep.globals.map((g) => g.entry))];
  const byEntry = entries.length > 1 || entries[0] !== undefined;
  for (const entry of entries) {
    const gs = groups(rep.globals.filter((g) => g.entry === entry));
    const indent = byEntry ? '    ' : '  ';
    if (byEntry) lines.push(`  ${entry ?? '(file)'}`);
    const nameWidth = Math.min(60, Math.max(0, ...gs.map((g) => g.name.length)));
    const rows = gs.map((g) => ({ g, uses: [...g.uses].join('/'), at: `byte ${offsetsText(g.offsets)}` }));
    const usesWidth = Math.max(0, ...rows.map((r) => r.uses.length));
    const atWidth = Math.max(0, ...rows.map((r) => r.at.length));
    for (const { g, uses, at } of rows) {
      const sev = g.severity.padEnd(9);
      const sevText =
        g.severity === 'dangerous'
          ? style.bad(sev)
          : g.severity === 'unknown'
            ? style.warn(sev)
            : style.good(sev);
      let line = `${indent}${sevText}  ${g.name.padEnd(nameWidth)}  ${uses.padEnd(usesWidth)}  ${g.reason ? at.padEnd(atWidth) : at}`;
      if (g.reason) line += `  ${style.note(g.reason)}`;
      lines.push(line);
    }
  }
  for (const e of rep.errors) lines.push(`  ${style.warn('problem')}    ${e}`);
  if (rep.compression && rep.globals.length > 0)
    lines.push(style.note(`  (offsets are in the decompressed stream)`));
  return lines;
}

/** The machine-readable form of all files. */
export function scanJson(results: readonly FileResult[], strict: boolean): unknown {
  return {
    dangerous: results.some((r) => r.report?.dangerous === true),
    exitCode: scanExitCode(results, strict),
    files: results.map((r) => ({
      file: r.file,
      verdict: verdictOf(r, strict),
      ...(r.report ?? {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.note !== undefined ? { note: r.note } : {}),
    })),
  };
}
