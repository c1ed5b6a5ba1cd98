import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unstable_readConfig } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/platform/config';

const ROOT = new URL('../..', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** The `npx wrangler …` lines of the shell blocks of a Markdown file, continuation lines joined, comments dropped. */
function wranglerCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ''));
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('npx wrangler '));
}

/**
 * The deploy recipe of the README and of docs/workers-and-openapi.md against what it deploys:
 * wrangler.toml as wrangler itself reads it, the names src/worker.ts and src/platform/config.ts
 * read, and the commands and flags of the pinned wrangler.
 */
describe('the Workers deploy recipe matches wrangler.toml, the code and wrangler', () => {
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') });
  let readme: string;
  let doc: string;
  let worker: string;
  let home: string;

  beforeAll(async () => {
    const read = (file: string) => readFile(join(ROOT, file), 'utf8');
    readme = await read('README.md');
    doc = await read('docs/workers-and-openapi.md');
    worker = await read('src/worker.ts');
    home = await mkdtemp(join(tmpdir(), 'civic-wrangler-help-'));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('binds what the Worker reads: HYPERDRIVE, ASSETS, the cron trigger, nodejs_compat', () => {
    expect(config.main).toBe(join(ROOT, 'src/worker.ts'));
    expect(config.hyperdrive.map((h: { binding: string }) => h.binding)).toEqual(['HYPERDRIVE']);
    expect(worker).toContain('env.HYPERDRIVE?.connectionString');
    expect(config.assets?.binding).toBe('ASSETS');
    expect(worker).toContain('env.ASSETS');
    expect(config.compatibility_flags).toContain('nodejs_compat');
    expect(config.triggers.crons).toEqual(['* * * * *']);
    for (const text of [doc]) {
      expect(text).toContain('`HYPERDRIVE` binding');
      expect(text).toContain('`ASSETS` binding');
      expect(text).toContain('`nodejs_compat`');
      expect(text).toContain('`* * * * *`');
    }
  });

  it('sets in [vars] only settings the engine reads, never a secret, and a merge delay the cron can keep', () => {
    const vars = config.vars as Record<string, string>;
    expect(Object.keys(vars).filter((name) => !(SETTING_NAMES as string[]).includes(name))).toEqual([]);
    expect(Object.keys(vars).filter((name) => /KEY|PEPPER|SECRET/.test(name))).toEqual([]);
    expect(vars.NODE_ENV).toBe('production');
    expect(Number(vars.LOG_MERGE_DELAY_MS)).toBeGreaterThanOrEqual(90_000);
    expect(doc).toContain(`\`LOG_MERGE_DELAY_MS\` = ${Number(vars.LOG_MERGE_DELAY_MS) / 1000} s`);
  });

  it('puts every secret the engine needs in production with `wrangler secret put`, and only settings it reads', () => {
    for (const text of [readme, doc]) {
      const named = [...text.matchAll(/wrangler secret put ([A-Z_]+)(?:[^\n]*# and ([A-Z_, ]+))?/g)].flatMap((m) => [m[1]!, ...(m[2] ?? '').split(/[\s,]+/).filter(Boolean)]);
      expect(named).toEqual(expect.arrayContaining(['SIGNING_KEY', 'IDENTITY_PEPPER', 'PII_KEY']));
      expect(named.filter((name) => !(SETTING_NAMES as string[]).includes(name))).toEqual([]);
    }
  });

  it('creates Hyperdrive with its query cache off: it would serve reads up to a minute old after writes', () => {
    const creates = [...wranglerCommands(readme), ...wranglerCommands(doc)].filter((c) => c.startsWith('npx wrangler hyperdrive create'));
    expect(creates).toHaveLength(2);
    for (const command of creates) expect(command).toContain('--caching-disabled');
  });

  it("uses only commands and flags that the pinned wrangler has", async () => {
    const commands = [...wranglerCommands(readme), ...wranglerCommands(doc)];
    expect(commands.length).toBeGreaterThanOrEqual(6);
    const helps = new Map<string, Promise<string>>();
    for (const command of commands) {
      const words = command.split(/\s+/).slice(2);
      const verbs = words.filter((w) => /^[a-z][a-z-]*$/.test(w)).slice(0, words[0] === 'deploy' || words[0] === 'dev' ? 1 : 2);
      const key = verbs.join(' ');
      if (!helps.has(key)) {
        helps.set(
          key,
          promisify(execFile)(process.execPath, [WRANGLER, ...verbs, '--help'], {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? '', HOME: home, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
          }).then(({ stdout }) => stdout),
        );
      }
      const help = await helps.get(key)!;
      expect(help, command).toContain(`wrangler ${key}`);
      for (const flag of command.match(/--[a-z][a-z-]*/g) ?? []) expect(help, `${command}: ${flag}`).toContain(flag);
    }
  });
});
