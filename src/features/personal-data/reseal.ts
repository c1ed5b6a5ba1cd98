/**
 * After a rotation of PII_KEY, what earlier keys sealed (signers' personal data, webhook secrets) is
 * opened with them and sealed again under the current key, a batch per scheduler tick, so that the
 * operator can then drop the earlier keys from PII_KEYS_PREVIOUS.
 */
import { and, asc, eq, gt, isNotNull, ne, sql } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import type { Executor } from '../../db/client';
import { rowsOf } from '../../db/query';
import { signatures } from '../../db/schema';
import { webhookSubscriptions } from '../../db/schema-webhooks';
import type { AppDeps } from '../../platform/http';
import type { EngineKeys } from '../../platform/keys';
import { appendAudit } from '../audit/service';
import { openWebhookSecret, sealWebhookSecret, WEBHOOK_KID_SUFFIX } from '../webhooks/secret';
import { openPersonalData, sealPersonalData } from './sealing';

/** Signatures re-sealed per tick: about a tenth of a second of work. */
const BATCH = 1000;
/** Once a pass has nothing left to do, how long before the next (a process still running with the old key could seal more). */
const RECHECK_MS = 10 * 60_000;

export interface ResealOutcome {
  signatures: number;
  webhookSecrets: number;
}

/** The compact JWE header (its first part) that the current key's sealing writes: everything else is under another key. */
async function currentHeaders(keys: EngineKeys): Promise<{ personal: string; secret: string }> {
  const inline = { pii: { key: keys.pii.key, kid: keys.pii.kid } };
  const [personal, secret] = await Promise.all([sealPersonalData(inline, { givenNames: 'x', familyName: 'x', birthdate: '2000-01-01' }), sealWebhookSecret(inline, 'x')]);
  return { personal: personal.split('.')[0]!, secret: secret.split('.')[0]! };
}

function kidOf(jwe: string): string {
  try {
    return String(decodeProtectedHeader(jwe).kid ?? '(none)');
  } catch {
    return '(unreadable)';
  }
}

/**
 * The re-sealing task of one engine. A pass walks the signatures not sealed under the current key,
 * in id order, a batch per tick, then the webhook secrets. A value is written back only if it still
 * holds what was read (a retention purge in between wins), and each tick's writes are recorded in
 * the audit trail. Values that cannot be opened (under a key that is not configured, or damaged) are
 * left as they are and reported at the end of each pass; only a pass that finds nothing at all under
 * another key says the earlier keys may go.
 */
export function personalDataResealer(deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>, options: { batch?: number } = {}) {
  const batch = options.batch ?? BATCH;
  let after: string | undefined;
  let found = 0;
  let written = 0;
  let unopened = new Map<string, number>();
  let restAt = 0;
  let saidDone = false;

  return async function reseal(now: Date): Promise<ResealOutcome> {
    const keys = deps.keys;
    const outcome = { signatures: 0, webhookSecrets: 0 };
    if (Object.keys(keys.pii.previous ?? {}).length === 0 || now.getTime() < restAt) return outcome;
    const db = deps.db.db;
    const current = await currentHeaders(keys);
    const unopenedAs = (kid: string) => unopened.set(kid, (unopened.get(kid) ?? 0) + 1);

    const rows = await db
      .select({ id: signatures.id, personalData: signatures.personalData })
      .from(signatures)
      .where(
        and(
          after === undefined ? undefined : gt(signatures.id, after),
          isNotNull(signatures.personalData),
          ne(sql`split_part(${signatures.personalData}, '.', 1)`, current.personal),
        ),
      )
      .orderBy(asc(signatures.id))
      .limit(batch);
    const passEnds = rows.length < batch;
    const resealed: { id: string; old: string; sealed: string; from: string }[] = [];
    for (const row of rows) {
      const from = kidOf(row.personalData!);
      const identity = await openPersonalData(keys, row.personalData!).catch(() => undefined);
      if (identity) resealed.push({ id: row.id, old: row.personalData!, sealed: await sealPersonalData(keys, identity), from });
      else unopenedAs(from);
    }
    const secrets: { id: string; old: string; sealed: string; from: string }[] = [];
    if (passEnds) {
      const held = await db
        .select({ id: webhookSubscriptions.id, secret: webhookSubscriptions.secret })
        .from(webhookSubscriptions)
        .where(ne(sql`split_part(${webhookSubscriptions.secret}, '.', 1)`, current.secret));
      for (const row of held) {
        const from = kidOf(row.secret).replace(WEBHOOK_KID_SUFFIX, '');
        const secret = await openWebhookSecret(keys, row.secret).catch(() => undefined);
        if (secret !== undefined) secrets.push({ id: row.id, old: row.secret, sealed: await sealWebhookSecret(keys, secret), from });
        else unopenedAs(`${from}${WEBHOOK_KID_SUFFIX}`);
      }
    }

    if (resealed.length + secrets.length > 0) {
      Object.assign(outcome, await db.transaction((tx) => writeBack(tx, resealed, secrets, keys.pii.kid, now)));
      deps.logger.info('personal data sealed again under the current key', { ...outcome, toKey: keys.pii.kid });
    }
    found += rows.length + secrets.length;
    written += outcome.signatures + outcome.webhookSecrets;
    if (!passEnds) {
      after = rows[rows.length - 1]!.id;
      return outcome;
    }
    // The end of a pass.
    if (unopened.size > 0) {
      deps.logger.warn('personal data that the configured keys cannot open was left as it is: keep the keys it was sealed under', {
        byKey: Object.fromEntries([...unopened].sort()),
      });
      saidDone = false;
    } else if (found === 0 && !saidDone) {
      deps.logger.info('nothing is sealed under earlier personal-data keys any more: they may be removed from PII_KEYS_PREVIOUS', {
        keys: Object.keys(keys.pii.previous ?? {}).sort(),
      });
      saidDone = true;
    }
    // Straight on with another pass after one that wrote something (to see it is all done); otherwise rest.
    if (written === 0) restAt = now.getTime() + RECHECK_MS;
    after = undefined;
    found = 0;
    written = 0;
    unopened = new Map();
    return outcome;
  };
}

/** One transaction per tick: the values still as read are replaced, and the audit trail says how many, from which keys. */
async function writeBack(
  tx: Executor,
  resealed: { id: string; old: string; sealed: string; from: string }[],
  secrets: { id: string; old: string; sealed: string; from: string }[],
  toKey: string,
  now: Date,
): Promise<ResealOutcome> {
  let signatureCount = 0;
  if (resealed.length > 0) {
    const updated = await tx.execute(sql`
      update signatures s set personal_data = v.sealed
      from jsonb_to_recordset(${JSON.stringify(resealed.map(({ id, old, sealed }) => ({ id, old, sealed })))}::jsonb) as v(id uuid, old text, sealed text)
      where s.id = v.id and s.personal_data = v.old
      returning s.id`);
    signatureCount = rowsOf<{ id: string }>(updated).length;
  }
  let secretCount = 0;
  for (const s of secrets) {
    const updated = await tx
      .update(webhookSubscriptions)
      .set({ secret: s.sealed })
      .where(and(eq(webhookSubscriptions.id, s.id), eq(webhookSubscriptions.secret, s.old)))
      .returning({ id: webhookSubscriptions.id });
    secretCount += updated.length;
  }
  if (signatureCount + secretCount > 0) {
    await appendAudit(tx, {
      actor: 'system:scheduler',
      action: 'personal-data.resealed',
      at: now,
      details: { signatures: signatureCount, webhookSecrets: secretCount, fromKeys: [...new Set([...resealed, ...secrets].map((r) => r.from))].sort(), toKey },
    });
  }
  return { signatures: signatureCount, webhookSecrets: secretCount };
}
