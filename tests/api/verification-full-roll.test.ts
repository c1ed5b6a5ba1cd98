import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SIGNATURES = 10_000;
/** 200 MB of sealed personal data in all, 20 MB a page of 1,000. */
const SEALED_BYTES = 20_000;
const HEAP_MB = 128;

describe('a full count against the roll of a large initiative', () => {
  it(`checks ${SIGNATURES.toLocaleString('en')} signatures whose personal data outweighs the engine's heap (${HEAP_MB} MB): they are read a page at a time`, async () => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(process.cwd(), 'tests/support/full-count-run.ts'), String(SIGNATURES), String(SEALED_BYTES)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({ status: 201, roll: { onRoll: 0, notOnRoll: 0, otherDistrict: 0, noPersonalData: SIGNATURES } });
  });
});
