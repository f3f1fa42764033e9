/** Byte counts for people. */

/**
 * A byte count in binary units: `868 bytes`, `1.4 KiB`, `250 MiB`, `3.2 GiB`.
 * @example
 * formatSize(256_000_000); // '244 MiB'
 */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  // Three significant digits at most: 1.4 KiB, 45.3 MiB, 250 MiB.
  return `${v >= 99.95 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
