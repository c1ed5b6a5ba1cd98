import { bytesToHex } from '@noble/hashes/utils.js';
import { inArray } from 'drizzle-orm';
import { constantTimeEqual } from '../core/constant-time';
import type { HashKeyring } from '../core/identity';
import type { Database } from '../db/client';
import { pepperChecks } from '../db/schema';
import { ConfigError } from './config';

/**
 * Checked once at start, before any request: each configured pepper must be the one the stored
 * hashes of its version were made with. Another pepper under a known version name would give every
 * person who signed before a new hash, and a second signature. The first start with a version
 * records its check value; engines starting at once record one (the first insert wins) and all
 * compare with it.
 */
export async function checkIdentityPeppers(db: Database, keyring: HashKeyring, now: Date): Promise<void> {
  // The current pepper first: it is the one an operator has just changed.
  const versions = [keyring.currentVersion, ...keyring.versions.filter((version) => version !== keyring.currentVersion)];
  const configured = versions.map((keyVersion) => ({ keyVersion, checkValue: keyring.checkValue(keyVersion), recordedAt: now }));
  await db.insert(pepperChecks).values(configured).onConflictDoNothing();
  const recorded = await db.select().from(pepperChecks).where(inArray(pepperChecks.keyVersion, versions));
  for (const { keyVersion, checkValue } of configured) {
    const stored = recorded.find((row) => row.keyVersion === keyVersion)!;
    if (constantTimeEqual(bytesToHex(stored.checkValue), bytesToHex(checkValue))) continue;
    if (keyVersion === keyring.currentVersion) {
      throw new ConfigError(
        'IDENTITY_PEPPER',
        `is not the pepper this database's signer and roll hashes of IDENTITY_PEPPER_VERSION "${keyVersion}" were made with; ` +
          'a new pepper needs a new IDENTITY_PEPPER_VERSION, with the earlier pepper listed in IDENTITY_PEPPERS_PREVIOUS (docs/identity.md), ' +
          'or everyone who signed before would be counted again',
      );
    }
    throw new ConfigError('IDENTITY_PEPPERS_PREVIOUS', `pepper "${keyVersion}" is not the one this database's signer and roll hashes of that version were made with`);
  }
}
