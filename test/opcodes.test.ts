import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPCODES, OPCODE_BY_CODE } from '../src/opcodes.js';
import { loads, UnpicklingError } from '../src/index.js';

describe('opcode table', () => {
  it('has the 68 opcodes of protocols 0-5 with unique codes and names', () => {
    expect(OPCODES.length).toBe(68);
    expect(new Set(OPCODES.map((o) => o.code)).size).toBe(68);
    expect(new Set(OPCODES.map((o) => o.name)).size).toBe(68);
    expect(Math.max(...OPCODES.map((o) => o.proto))).toBe(5);
  });

  it('the decoder handles exactly the opcodes in the table', () => {
    const handled: number[] = [];
    for (let b = 0; b < 256; b++) {
      // The opcode followed by bytes that make most arguments parse; what matters is whether the
      // decoder recognises the opcode at all ("invalid load key") or fails later for another reason.
      const data = new Uint8Array([b, 0x31, 0x0a, 0x31, 0x0a, 0x2e]);
      let unknownAtStart = false;
      try {
        loads(data);
      } catch (e) {
        expect(e).toBeInstanceOf(UnpicklingError);
        // (Bytes that read as text get a 'wrong-format' error whose cause is the decoder's own.)
        const err = (
          (e as UnpicklingError).code === 'wrong-format' ? (e as Error).cause : e
        ) as UnpicklingError;
        unknownAtStart = err.code === 'bad-opcode' && err.offset === 0;
      }
      if (!unknownAtStart) handled.push(b);
    }
    const table = OPCODES.map((o) => o.code).sort((a, b) => a - b);
    expect(handled).toEqual(table);
    for (const b of handled) expect(OPCODE_BY_CODE[b]).toBeDefined();
  });

  it("every case label of the decoder's switch names its opcode as the table does, each opcode once", () => {
    // The labels are literals (a jump table in V8); this keeps them and their comments true to the table.
    const source = readFileSync(new URL('../src/unpickle/decoder.ts', import.meta.url), 'utf8');
    const labels = [...source.matchAll(/case (0x[0-9a-f]{2}):\s*(?:\{\s*)?\/\/ ([A-Z0-9_]+)/g)];
    const seen = new Map<number, string>();
    for (const [, hex, name] of labels) {
      const code = Number(hex);
      expect(OPCODE_BY_CODE[code]?.name, `${hex} is labelled ${name}`).toBe(name);
      expect(seen.has(code), `${name} appears twice`).toBe(false);
      seen.set(code, name as string);
    }
    // Every `case 0x..` carries its name comment, and every opcode of the table has its case.
    expect([...source.matchAll(/case 0x[0-9a-f]{2}:/g)].length).toBe(labels.length);
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(OPCODES.map((o) => o.code).sort((a, b) => a - b));
  });
});
