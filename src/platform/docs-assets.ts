import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DocsAssetFile } from '../features/docs/routes';

/** Swagger UI's files read from the installed package (Node only; Workers serve them as static assets). */
export function packageDocsAssets(): (file: DocsAssetFile) => Promise<Response | undefined> {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/absolute-path.js'));
  const cache = new Map<string, Uint8Array>();
  return async (file) => {
    let body = cache.get(file);
    if (!body) {
      body = await readFile(join(dir, file)).catch(() => undefined);
      if (!body) return undefined;
      cache.set(file, body);
    }
    return new Response(body as Uint8Array<ArrayBuffer>);
  };
}
