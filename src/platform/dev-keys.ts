import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { Config } from './config';
import { configuredKeyMaterial, generateKeyMaterial, type KeyMaterial } from './keys';

/**
 * Key material for the Node server: from configuration when given, otherwise generated once into
 * DATA_DIR so a development engine keeps its keys (and its signer hashes) across restarts.
 */
export async function loadOrGenerateKeyMaterial(config: Config): Promise<KeyMaterial> {
  const file = join(config.dataDir, 'keys.json');
  let stored: { signingJwk: JWK; pepper: string; pepperVersion: string; piiKey: string } | undefined;
  const needsGenerated = !config.signingKey || !config.pepper || !config.piiKey;
  if (needsGenerated) {
    if (config.production) throw new Error('generated keys are refused in production');
    stored = await readFile(file, 'utf8').then(JSON.parse, () => undefined);
    if (!stored) {
      const fresh = await generateKeyMaterial(config.pepper?.version ?? 'dev');
      stored = {
        signingJwk: fresh.signingJwk,
        pepper: Buffer.from(fresh.pepper.secret).toString('base64'),
        pepperVersion: fresh.pepper.version,
        piiKey: Buffer.from(fresh.piiKey).toString('base64'),
      };
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
    }
  }
  return configuredKeyMaterial(
    config,
    stored && { signingJwk: stored.signingJwk, pepper: { version: stored.pepperVersion, secret: Buffer.from(stored.pepper, 'base64') }, piiKey: Buffer.from(stored.piiKey, 'base64') },
  );
}
