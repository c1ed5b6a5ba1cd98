/**
 * After a rotation of PII_KEY, what earlier keys sealed (signers' personal data, webhook secrets) is
 * opened with them and sealed again under the current key, a batch per scheduler tick, so that the
 * operator can then drop the earlier keys from PII_KEYS_PREVIOUS.
 */
import { and, asc, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { rowsOf } from '../../db/query';
import { signatures } from '../../db/schema';
import { webhookSubscriptions } from '../../db/schema-webhooks';
import type { AppDeps } from '../../platform/http';
import type { EngineKeys } from '../../platform/keys';
import { appendAudit } from '../audit/service';
import { openWebhookSecret, sealWebhookSecret } from '../webhooks/secret';
import { openPersonalData, sealPersonalData } from './sealing';

/** Signatures re-sealed per tick: about a tenth of a second of work; a million in under 20 minutes at one tick a second. */
const BATCH = 1000;
/** Once nothing is left, how long before looking again (a process still running with the old key could seal more). */
const RECHECK_MS = 10 * 60_000;

/** The compact JWE header (its first part) that a key id's sealing writes: rows under that key are found by it. */
async function headerOf(seal: Promise<string>): Promise<string> {
  return (await seal).split('.')[0]!;
}

export interface ResealOutcome {
  signatures: number;
  webhookSecrets: number;
}

/**
 * The re-sealing task of one engine. It walks the signatures in id order from where the last tick
 * stopped; a row is written only if it still holds what was read (a purge that destroyed it in
 * between wins). Each batch is recorded in the audit trail (how many, from which keys, to which).
 */
export function personalDataResealer(deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>) {
  let after: string | undefined;
  let foundThisPass = 0;
  let restAt = 0;
  let reportedDone = false;

  return async function reseal(now: Date): Promise<ResealOutcome> {
    const keys = deps.keys;
    const previous = Object.entries(keys.pii.previous ?? {});
    const outcome = { signatures: 0, webhookSecrets: 0 };
    if (previous.length === 0 || now.getTime() < restAt) return outcome;
    const db = deps.db.db;
    const old = previous.map(([kid, key]) => ({ pii: { kid, key } }));
    const personalHeaders = await Promise.all(old.map((k) => headerOf(sealPersonalData(k, { givenNames: 'x', familyName: 'x', birthdate: '2000-01-01' }))));
    const secretHeaders = await Promise.all(old.map((k) => headerOf(sealWebhookSecret(k, 'x'))));

    if (after === undefined) outcome.webhookSecrets = await resealWebhookSecrets(db, keys, secretHeaders);
    const rows = await db
      .select({ id: signatures.id, personalData: signatures.personalData })
      .from(signatures)
      .where(
        and(
          after === undefined ? undefined : gt(signatures.id, after),
          isNotNull(signatures.personalData),
          inArray(sql`split_part(${signatures.personalData}, '.', 1)`, personalHeaders),
        ),
      )
      .orderBy(asc(signatures.id))
      .limit(BATCH);
    if (rows.length > 0) {
      // A row that cannot be opened (damaged) is left as it is and reported, not retried at every tick.
      const results = await Promise.all(
        rows.map(async (r) => {
          const identity = await openPersonalData(keys, r.personalData!).catch(() => undefined);
          return identity && { id: r.id, old: r.personalData!, sealed: await sealPersonalData(keys, identity) };
        }),
      );
      const sealed = results.filter((r) => r !== undefined);
      if (sealed.length < rows.length) deps.logger.warn('personal data that cannot be opened was left as it is', { signatures: rows.length - sealed.length });
      outcome.signatures = await db.transaction(async (tx) => {
        const updated = await tx.execute(sql`
          update signatures s set personal_data = v.sealed
          from jsonb_to_recordset(${JSON.stringify(sealed)}::jsonb) as v(id uuid, old text, sealed text)
          where s.id = v.id and s.personal_data = v.old
          returning s.id`);
        const count = rowsOf<{ id: string }>(updated).length;
        if (count > 0) {
          await appendAudit(tx, {
            actor: 'system:scheduler',
            action: 'personal-data.resealed',
            at: now,
            details: { signatures: count, fromKeys: previous.map(([kid]) => kid).sort(), toKey: keys.pii.kid },
          });
        }
        return count;
      });
    }
    foundThisPass += outcome.signatures + outcome.webhookSecrets;
    if (rows.length === BATCH) {
      after = rows[rows.length - 1]!.id;
    } else {
      // The end of a pass: start again from the beginning at the next tick, or rest if this pass found nothing.
      after = undefined;
      if (foundThisPass === 0) {
        restAt = now.getTime() + RECHECK_MS;
        if (!reportedDone) {
          deps.logger.info('nothing is sealed under earlier personal-data keys any more: they may be removed from PII_KEYS_PREVIOUS', {
            keys: previous.map(([kid]) => kid),
          });
          reportedDone = true;
        }
      }
      foundThisPass = 0;
    }
    if (outcome.signatures + outcome.webhookSecrets > 0) {
      reportedDone = false;
      deps.logger.info('personal data sealed again under the current key', { ...outcome, toKey: keys.pii.kid });
    }
    return outcome;
  };
}

/** Webhook secrets are few (25 per account at most): all of them in one go. */
async function resealWebhookSecrets(db: Database, keys: EngineKeys, headers: string[]): Promise<number> {
  const rows = await db
    .select({ id: webhookSubscriptions.id, secret: webhookSubscriptions.secret })
    .from(webhookSubscriptions)
    .where(inArray(sql`split_part(${webhookSubscriptions.secret}, '.', 1)`, headers));
  let count = 0;
  for (const row of rows) {
    const sealed = await sealWebhookSecret(keys, await openWebhookSecret(keys, row.secret));
    const updated = await db
      .update(webhookSubscriptions)
      .set({ secret: sealed })
      .where(and(eq(webhookSubscriptions.id, row.id), eq(webhookSubscriptions.secret, row.secret)))
      .returning({ id: webhookSubscriptions.id });
    count += updated.length;
  }
  return count;
}
