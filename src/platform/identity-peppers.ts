import { bytesToHex } from '@noble/hashes/utils.js';
import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { constantTimeEqual } from '../core/constant-time';
import type { HashKeyring } from '../core/identity';
import { UNFINISHED_STATUSES } from '../core/lifecycle';
import type { Database } from '../db/client';
import { initiatives, pepperChecks } from '../db/schema';
import { destroyedSql } from '../features/personal-data/service';
import { rollImports } from '../db/schema-roll';
import { ConfigError } from './config';

/**
 * Checked once at start, before any request. Every pepper version that an unfinished initiative
 * (draft to verifying: a draft keeps its version when it opens; not a closed one whose signers'
 * personal data is destroyed) or a current roll uses must be
 * configured. Each configured pepper must be the one the stored hashes of its version were made
 * with: another pepper under a known version name would give everyone who signed before a new hash,
 * and a second signature. The first start with a version records its check value; engines starting
 * at once record one (the first insert wins) and all compare with it.
 */
export async function checkIdentityPeppers(db: Database, keyring: HashKeyring, now: Date): Promise<void> {
  // The current pepper first: it is the one an operator has just changed.
  const versions = [keyring.currentVersion, ...keyring.versions.filter((version) => version !== keyring.currentVersion)];
  const configured = versions.map((keyVersion) => ({ keyVersion, checkValue: keyring.checkValue(keyVersion), recordedAt: now }));
  await checkVersionsInUse(db, versions);
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

/** Without the pepper of a version in use, every signature, paper batch or roll check under it would fail. */
async function checkVersionsInUse(db: Database, versions: string[]) {
  const byInitiatives = await db
    .select({ version: initiatives.pepperVersion, count: sql<number>`count(*)::int` })
    .from(initiatives)
    .where(
      and(
        inArray(initiatives.status, [...UNFINISHED_STATUSES]),
        notInArray(initiatives.pepperVersion, versions),
        // Closed, its signers' personal data destroyed: it takes no signature, paper or verification any more, as a finished one.
        sql`not (${initiatives.status} = 'closed' and ${destroyedSql})`,
      ),
    )
    .groupBy(initiatives.pepperVersion);
  const byRolls = await db
    .select({ version: rollImports.keyVersion, jurisdictionId: rollImports.jurisdictionId })
    .from(rollImports)
    .where(and(eq(rollImports.status, 'current'), notInArray(rollImports.keyVersion, versions)));
  const missing = [...new Set([...byInitiatives, ...byRolls].map((use) => use.version))].sort();
  if (missing.length === 0) return;
  const uses = missing.map((version) => {
    const count = byInitiatives.find((use) => use.version === version)?.count ?? 0;
    const rolls = byRolls.filter((use) => use.version === version).map((use) => use.jurisdictionId).sort();
    const users = [
      ...(count > 0 ? [`${count} ${count === 1 ? 'initiative' : 'initiatives'} not yet finished (draft to verifying)`] : []),
      ...(rolls.length > 0 ? [`the current electoral roll of ${rolls.join(', ')}`] : []),
    ];
    return `"${version}", used by ${users.join(' and by ')}`;
  });
  throw new ConfigError(
    'IDENTITY_PEPPERS_PREVIOUS',
    `lacks the pepper of ${missing.length === 1 ? 'a version' : 'versions'} still in use: ${uses.join('; ')}. ` +
      'List it as {"<version>": "<base64 pepper>"} (docs/identity.md, rotating the identity pepper), or its signatures and roll checks cannot be made',
  );
}
