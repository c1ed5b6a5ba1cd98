/**
 * `npm run build`: the engine for production, as plain JavaScript in `dist/node/` — the server and
 * its JOSE thread, each one file, with the packages left in node_modules. `npm run start:production`
 * runs it with Node alone: no TypeScript loader in the process, which under `npm start` keeps a
 * thread and a compiler process of its own (about 40 MB less and a tenth less CPU per signature in
 * `npm run bench`, docs/performance.md).
 *
 * The bundle sits two folders below the project, as the modules under src/ do, so that what they
 * find from their own address (the migrations in drizzle/, the JOSE thread beside the server) is
 * found from the bundle's too.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { sourceFingerprint } from './platform/source-fingerprint';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUILT_SERVER = `${ROOT}dist/node/server.js`;

/** `root`: another checkout of the engine (tests build one of their own, leaving this one's dist/ alone). */
export async function buildEngine(root = ROOT): Promise<string> {
  await build({
    absWorkingDir: root,
    entryPoints: ['src/server.ts', 'src/platform/jose-thread.ts'],
    outdir: 'dist/node',
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    // What it was built from: a bundle started after an update without a new build refuses to run (src/server.ts).
    define: { __CIVIC_SOURCE_FINGERPRINT__: JSON.stringify((await sourceFingerprint(root)) ?? '') },
  });
  return root === ROOT ? BUILT_SERVER : `${root.replace(/\/?$/, '/')}dist/node/server.js`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildEngine().then(
    (server) => process.stdout.write(`Built ${server}\n`),
    (error: unknown) => {
      process.stderr.write(`Build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
