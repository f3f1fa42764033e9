/**
 * Multi-GB eager reads on Linux: a fresh buffer costs one page fault per 4 KiB page, and on some
 * machines (VMs) a fault costs ~10 µs, so reading 5 GB into new arrays spent 25 s in the kernel where
 * numpy, which asks for transparent huge pages for its large buffers, spent a fraction. V8 cannot ask;
 * glibc's malloc can, when started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (glibc ≥ 2.35). The
 * tunable is read at process start only, so the CLI runs itself again with it for large inputs
 * (bench/large.mjs: 5 GB joblib eager load 25.5 s → 2.0 s). PICKLEJAR_HUGE_PAGES=0 turns this off.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

/** Inputs at least this large (in total) are worth a second process start (~50 ms). */
const FROM = 256 << 20;
const TUNABLE = 'glibc.malloc.hugetlb=1';

/** Whether this process should run again with huge pages for these input files. */
export function wantsHugePages(inputs: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (process.platform !== 'linux' || env['PICKLEJAR_HUGE_PAGES'] === '0') return false;
  if ((env['GLIBC_TUNABLES'] ?? '').includes('glibc.malloc.hugetlb')) return false; // set already (or by us)
  let total = 0;
  for (const name of inputs) {
    if (name === '-') continue;
    try {
      total += statSync(name).size;
    } catch {
      // the command reports it
    }
  }
  if (total < FROM) return false;
  try {
    // THP must be on for madvise'd memory ("[always]" or "[madvise]", not "[never]").
    if (readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]')) return false;
  } catch {
    return false;
  }
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header?.glibcVersionRuntime;
  const [major, minor] = (glibc ?? '0.0').split('.').map(Number) as [number, number];
  return major > 2 || (major === 2 && minor >= 35);
}

/** Run this CLI again with the tunable set; resolves with its exit status. */
export function runWithHugePages(env: NodeJS.ProcessEnv): number {
  const tunables = [env['GLIBC_TUNABLES'], TUNABLE].filter(Boolean).join(':');
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, GLIBC_TUNABLES: tunables },
  });
  if (r.error) return -1;
  return r.status ?? 128 + (r.signal === 'SIGINT' ? 2 : 15);
}
