import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** What the production bundle is built from: the engine's code and the migrations it applies at start. */
const SOURCE_FOLDERS = ['src', 'drizzle'];
const SOURCE_FILE = /\.(ts|tsx|js|mjs|sql|json|css|svg)$/;

/**
 * A digest of every file under src/ and drizzle/ of the project at `root` (paths and contents), or
 * undefined when there is no src/ there (a deployment that ships the bundle without its sources).
 * `npm run build` records it in the bundle; the bundle compares it at start with the checkout's.
 */
export async function sourceFingerprint(root: string): Promise<string | undefined> {
  const files: string[] = [];
  const walk = async (folder: string): Promise<boolean> => {
    const entries = await readdir(join(root, folder), { withFileTypes: true }).catch(() => undefined);
    if (!entries) return false;
    for (const entry of entries) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      // Code and migrations only: an editor's swap or backup file beside them is no change to the engine.
      else if (entry.isFile() && !entry.name.startsWith('.') && SOURCE_FILE.test(entry.name)) files.push(path);
    }
    return true;
  };
  if (!(await walk(SOURCE_FOLDERS[0]!))) return undefined;
  for (const folder of SOURCE_FOLDERS.slice(1)) await walk(folder);
  const hash = sha256.create();
  const separator = new Uint8Array(1);
  for (const path of files.sort()) {
    hash.update(utf8ToBytes(path)).update(separator);
    hash.update(await readFile(join(root, path))).update(separator);
  }
  return bytesToHex(hash.digest());
}
