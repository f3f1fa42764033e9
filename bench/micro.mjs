#!/usr/bin/env node
// Micro-benchmarks behind the profile's suggestions: node --expose-gc bench/micro.mjs [word ...]
// (runs the comparisons whose title contains one of the words, e.g. `appends long1 short memoize`).
// Each compares ways of doing one hot decoder step on data shaped like the bench workloads. Strategies run
// interleaved, round after round, so load from other processes hits them alike; min and median of process
// CPU time per 1M ops (CPU time, because on a busy machine wall time mostly measures the wait for a core).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');
const ROUNDS = Number(process.env.MICRO_ROUNDS || '15');
const gc = globalThis.gc ?? (() => {});

const ONLY = process.argv.slice(2).map((a) => a.toLowerCase());

function compare(title, setup, strategies, opsPerRun) {
  if (ONLY.length && !ONLY.some((o) => title.toLowerCase().includes(o))) return;
  const state = setup();
  const times = Object.fromEntries(Object.keys(strategies).map((k) => [k, []]));
  const results = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(strategies)) {
      gc();
      const c = process.cpuUsage();
      results[name] = fn(state);
      const d = process.cpuUsage(c);
      times[name].push((d.user + d.system) / 1000);
    }
  }
  const ref = JSON.stringify(results[Object.keys(strategies)[0]], (k, v) =>
    typeof v === 'bigint' ? `${v}n` : v,
  );
  console.log(`-- ${title}`);
  for (const [name, ts] of Object.entries(times)) {
    ts.sort((a, b) => a - b);
    const per = (ms) => ((ms * 1e6) / opsPerRun).toFixed(1);
    const same =
      JSON.stringify(results[name], (k, v) => (typeof v === 'bigint' ? `${v}n` : v)) === ref
        ? ''
        : '  (DIFFERENT RESULT)';
    console.log(
      `  ${name.padEnd(28)} min ${per(ts[0]).padStart(7)} ms/1M ops   median ${per(ts[ts.length >> 1]).padStart(7)}${same}`,
    );
  }
}

// LONG1 with 8 bytes above 2**53 (10% of the ints workload): BigInt from two halves vs DataView.getBigInt64.
function long1() {
  const n = 200_000;
  const buf = new Uint8Array(n * 8);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) view.setBigInt64(i * 8, 2n ** 54n + BigInt(i) * 123456789n, true);
  return { buf, view, n };
}
compare(
  'LONG1 8-byte value > 2**53 -> bigint',
  long1,
  {
    halves({ buf, n }) {
      let last;
      for (let k = 0; k < n; k++) {
        const s = k * 8;
        let lo = 0;
        for (let i = 3; i >= 0; i--) lo = lo * 256 + buf[s + i];
        let hi = 0;
        for (let i = 7; i >= 4; i--) hi = hi * 256 + buf[s + i];
        if (buf[s + 7] & 0x80) hi -= 2 ** 32;
        last = (BigInt(hi) << 32n) + BigInt(lo);
      }
      return last;
    },
    getBigInt64({ view, n }) {
      let last;
      for (let k = 0; k < n; k++) last = view.getBigInt64(k * 8, true);
      return last;
    },
  },
  200_000,
);

// APPENDS: copying 1000-item batches from the value stack into the list (1M mixed ints like the workload).
function appends() {
  const N = 1_000_000;
  const vals = [];
  for (let i = 0; i < N; i++) {
    const k = i % 10;
    vals.push(
      k < 4
        ? i & 255
        : k < 6
          ? 256 + (i & 0xffff)
          : k < 8
            ? -(i * 2147)
            : k < 9
              ? 2 ** 31 + i * 1000
              : BigInt(i) << 40n,
    );
  }
  const stack = [{}];
  for (let i = 0; i < 1001; i++) stack.push(null);
  // The real call site also sees tuples and lists of floats/strings: make it polymorphic.
  class Tuple extends Array {}
  return { vals, stack, N, warm: () => [new Tuple(), [1.5], ['x'], []] };
}
function runAppends(st, copy) {
  const { vals, stack, N } = st;
  for (const w of st.warm()) copy(w, [0, 1, 2], 0, 3);
  const target = [];
  for (let b = 0; b < N; b += 1000) {
    for (let j = 0; j < 1000; j++) stack[1 + j] = vals[b + j];
    copy(target, stack, 1, 1001);
  }
  return target.length;
}
compare(
  'APPENDS of 1M mixed ints in 1000-item batches',
  appends,
  {
    fillOnlyBaseline: (st) => runAppends(st, () => {}) * 0 + 1_000_000,
    pushLoop: (st) =>
      runAppends(st, (t, s, m, sp) => {
        for (let i = m; i < sp; i++) t.push(s[i]);
      }),
    indexedStore: (st) =>
      runAppends(st, (t, s, m, sp) => {
        let n = t.length;
        for (let i = m; i < sp; i++) t[n++] = s[i];
      }),
    pushApplySlice: (st) =>
      runAppends(st, (t, s, m, sp) => {
        Array.prototype.push.apply(t, s.slice(m, sp));
      }),
  },
  1_000_000,
);

// Short ASCII strings (strings workload): per-string Buffer latin1Slice vs a JS loop vs one latin1 decode
// of the whole frame then substring (sliced strings of >= 13 chars keep the 64 KiB frame string alive).
function strings() {
  const b = readFileSync(join(OUT, 'strings_500k.p4.pkl'));
  const data = new Uint8Array(b.buffer, b.byteOffset, b.length);
  const spans = [];
  for (let p = 0; p < data.length - 2;) {
    const op = data[p];
    if (op === 0x8c) {
      spans.push(p + 2, p + 2 + data[p + 1]);
      p += 2 + data[p + 1];
    } else if (op === 0x95) p += 9;
    else p += 1;
  }
  return { data, spans, frame: { start: 0, text: '' } };
}
const latin1Slice = Buffer.prototype.latin1Slice;
compare(
  'SHORT_BINUNICODE 500k short strings (ASCII check included)',
  strings,
  {
    latin1SlicePerString({ data, spans }) {
      let last = '';
      for (let k = 0; k < spans.length; k += 2) {
        const s = spans[k],
          e = spans[k + 1];
        let i = s;
        while (i < e && data[i] < 0x80) i++;
        last = i === e ? latin1Slice.call(data, s, e) : Buffer.prototype.utf8Slice.call(data, s, e);
      }
      return last;
    },
    fromCharCodeLoop({ data, spans }) {
      let last = '';
      for (let k = 0; k < spans.length; k += 2) {
        const s = spans[k],
          e = spans[k + 1];
        let out = '';
        let i = s;
        for (; i < e; i++) {
          const c = data[i];
          if (c >= 0x80) break;
          out += String.fromCharCode(c);
        }
        last = i === e ? out : Buffer.prototype.utf8Slice.call(data, s, e);
      }
      return last;
    },
    frameLatin1ThenSubstring({ data, spans }) {
      // One latin1 decode per 64 KiB window, then substring for ASCII spans inside it.
      let last = '';
      let wStart = 0,
        wEnd = 0,
        wText = '';
      for (let k = 0; k < spans.length; k += 2) {
        const s = spans[k],
          e = spans[k + 1];
        let i = s;
        while (i < e && data[i] < 0x80) i++;
        if (i !== e) {
          last = Buffer.prototype.utf8Slice.call(data, s, e);
          continue;
        }
        if (e > wEnd) {
          wStart = s;
          wEnd = Math.min(data.length, s + 65536);
          wText = latin1Slice.call(data, wStart, wEnd);
        }
        last = wText.substring(s - wStart, e - wStart);
      }
      return last;
    },
  },
  500_000,
);

// MEMOIZE: store at memo[memoCount] after an out-of-bounds "already set?" read, vs push when appending.
compare(
  'MEMOIZE 500k values',
  () => ({ vals: Array.from({ length: 500_000 }, (_, i) => `s${i}`) }),
  {
    oobCheckThenStore({ vals }) {
      const memo = [];
      let count = 0;
      for (let i = 0; i < vals.length; i++) {
        if (memo[count] === undefined) {
          memo[count] = vals[i];
          count++;
        } else memo[count] = vals[i];
      }
      return memo.length;
    },
    pushWhenAppending({ vals }) {
      const memo = [];
      let count = 0;
      for (let i = 0; i < vals.length; i++) {
        if (count === memo.length) {
          memo.push(vals[i]);
          count++;
        } else if (memo[count] === undefined) {
          memo[count] = vals[i];
          count++;
        } else memo[count] = vals[i];
      }
      return memo.length;
    },
  },
  500_000,
);

// Growth: 1M values pushed into one array vs into 100 arrays of 10k (same number of stores).
compare(
  'array growth: 1M pushes into one array vs 100 arrays of 10k',
  () => ({ N: 1_000_000 }),
  {
    oneArray({ N }) {
      const a = [];
      for (let i = 0; i < N; i++) a.push(i & 1023);
      return N;
    },
    hundredArrays({ N }) {
      let keep;
      for (let k = 0; k < 100; k++) {
        const a = [];
        for (let i = 0; i < N / 100; i++) a.push(i & 1023);
        keep = a;
      }
      return keep.length * 100;
    },
    preallocatedHoley({ N }) {
      const a = new Array(N);
      for (let i = 0; i < N; i++) a[i] = i & 1023;
      return a.length;
    },
  },
  1_000_000,
);
