import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Executor } from '../../db/client';
import { jurisdictionClerks } from '../../db/schema';
import type { AppEnv, Principal } from '../../platform/http';
import { problems } from '../../platform/problems';
import type { Identity } from './verifier';

/** The verified caller, or a 401 problem. */
export function requirePrincipal(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw problems.unauthenticated();
  return principal;
}

/** A citizen: a caller whose token carries a complete verified identity. */
export function requireIdentity(principal: Principal): Identity & { assurance: string } {
  if (!principal.identity || !principal.assurance) throw problems.missingClaims(principal.missingClaims.length ? principal.missingClaims : ['acr']);
  return { ...principal.identity, assurance: principal.assurance };
}

export function requireAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw problems.forbidden('Only an administrator may do this.');
}

export async function isClerkOf(db: Executor, subject: string, jurisdictionId: string): Promise<boolean> {
  const rows = await db
    .select({ subject: jurisdictionClerks.subject })
    .from(jurisdictionClerks)
    .where(and(eq(jurisdictionClerks.jurisdictionId, jurisdictionId), eq(jurisdictionClerks.subject, subject)))
    .limit(1);
  return rows.length > 0;
}

export async function requireClerk(db: Executor, principal: Principal, jurisdictionId: string): Promise<void> {
  if (!(await isClerkOf(db, principal.subject, jurisdictionId))) {
    throw problems.forbidden(`Only a clerk of jurisdiction "${jurisdictionId}" may do this.`);
  }
}

export async function clerkJurisdictions(db: Executor, subject: string): Promise<string[]> {
  const rows = await db
    .select({ id: jurisdictionClerks.jurisdictionId })
    .from(jurisdictionClerks)
    .where(eq(jurisdictionClerks.subject, subject));
  return rows.map((r) => r.id);
}
