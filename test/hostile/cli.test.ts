// Categories 8 and 9 through the CLI (another helper's src/cli, run as the built dist/cli.js): show,
// json and scan on 10^6-deep values and on 2^60-path fan-outs must exit cleanly (0, 1 or 3: a result,
// a dangerous scan, or a one-line UnpicklingError / PicklingError), never crash, never hang, and print
// linear output for the fan-outs. Skipped, with the reason in its name, when dist/cli.js is not built.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CaseLog, watchPrototypes } from '../helpers/hostile.js';
import { deepPickle, fanoutPickle } from './scenarios.js';

const log = new CaseLog('cli.test.ts');
afterAll(() => log.print());
watchPrototypes();

/** Generous: a loaded 2-core machine; far below "never". */
const DEEP_DEADLINE_MS = 300_000;

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const HAVE_CLI = existsSync(CLI);
/**
 * What the CLI prints for a failure it did not expect (its generic branch), a stack overflow, or a
 * dying process; expected failures are one line naming UnpicklingError / PicklingError.
 */
const CRASH =
  /run with --debug for a stack trace|Maximum call stack|out of memory|heap out of memory|FATAL ERROR|^\s+at /m;

describe.skipIf(!HAVE_CLI)(
  `8/9. the CLI on deep and fan-out values${HAVE_CLI ? '' : ' — SKIPPED: dist/cli.js not built (npm run build)'}`,
  () => {
    let dir = '';
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const files: [string, () => Uint8Array][] = [
      ['deep-list.pkl', () => deepPickle('list', 1_000_000)],
      ['deep-tuple.pkl', () => deepPickle('tuple1', 1_000_000)],
      ['fanout-list.pkl', () => fanoutPickle('list', 60)],
      ['fanout-tuple.pkl', () => fanoutPickle('tuple', 60)],
      ['fanout-dict.pkl', () => fanoutPickle('dict', 60)],
    ];
    // Deep files: show, and json with --indent 0 (indented output of a 10^6-deep value is quadratic in
    // the depth — see the report; jsonpickle output is covered by toJsonPickle in the sandbox above).
    const deepCommands: string[][] = [['show'], ['json', '--indent', '0']];
    const fanoutCommands: string[][] = [['show'], ['json'], ['json', '--jsonpickle'], ['scan']];

    describe.concurrent(
      'show / json / json --jsonpickle / scan exit cleanly (0, 1 or 3), never crash',
      () => {
        for (const [name, make] of files) {
          const commands = name.startsWith('deep') ? deepCommands : fanoutCommands;
          it(
            `${name}: ${commands.map((c) => c.join(' ')).join(', ')}`,
            async () => {
              if (!dir) dir = mkdtempSync(join(tmpdir(), 'pj-hostile-cli-'));
              const file = join(dir, name);
              if (!existsSync(file)) writeFileSync(file, make());
              for (const cmd of commands) {
                const t0 = performance.now();
                const r = await execa('node', [CLI, ...cmd, '--no-progress', '--no-color', file], {
                  reject: false,
                  timeout: DEEP_DEADLINE_MS,
                  stdin: 'ignore',
                  maxBuffer: 512 * 1024 * 1024,
                  env: { NO_COLOR: '1' },
                });
                const ms = performance.now() - t0;
                log.record('8/9 CLI', `${cmd.join(' ')} ${name}`, ms);
                const label = `picklejar ${cmd.join(' ')} ${name}`;
                expect(r.timedOut, `${label} timed out`).toBe(false);
                expect([0, 1, 3], `${label}: exit ${r.exitCode}\n${r.stderr.slice(0, 2000)}`).toContain(
                  r.exitCode,
                );
                expect(r.stderr, label).not.toMatch(CRASH);
                if (r.exitCode === 0 && cmd[0] !== 'scan') expect(r.stdout.length, label).toBeGreaterThan(0);
                // Linear output for the fan-outs (show marks shared objects; json uses references).
                if (name.startsWith('fanout'))
                  expect(r.stdout.length, `${label} output size`).toBeLessThan(200_000);
              }
            },
            DEEP_DEADLINE_MS * 4,
          );
        }
      },
    );
  },
);
