import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { z } from 'zod';
import type { District } from '../../db/schema';
import type { AppDeps, Principal } from '../../platform/http';
import { Problem } from '../../platform/problems';
import { createInitiative, joinCommittee, review, submit } from '../initiatives/service';
import { createJurisdiction, getJurisdiction, grantClerk } from '../jurisdictions/service';
import { sign } from '../signatures/service';

export const DEMO_JURISDICTION = 'paris';
export const DEMO_CLERK = 'dev-clerk';
const DAY_MS = 86_400_000;

/** Populations of the 20 arrondissements (INSEE), used when the administrative data package cannot be read. */
const PARIS_FALLBACK: [string, number][] = [
  ['75101', 15114], ['75102', 20900], ['75103', 33000], ['75104', 28000], ['75105', 56800],
  ['75106', 40200], ['75107', 48400], ['75108', 35400], ['75109', 58900], ['75110', 83500],
  ['75111', 142600], ['75112', 139300], ['75113', 178400], ['75114', 134400], ['75115', 230800],
  ['75116', 164000], ['75117', 164000], ['75118', 190500], ['75119', 181800], ['75120', 192500],
];

const CommuneSchema = z.object({ code: z.string(), nom: z.string(), type: z.string(), population: z.number().int().positive().optional() });

/** The arrondissements of Paris with their population from @etalab/decoupage-administratif, as the electorate reference. */
export async function parisDistricts(): Promise<{ districts: District[]; source: 'insee' | 'fallback' }> {
  try {
    const file = createRequire(import.meta.url).resolve('@etalab/decoupage-administratif/data/communes.json');
    const all = JSON.parse(await readFile(file, 'utf8')) as { code?: unknown }[];
    // Only the arrondissements of Paris are validated: the file holds some 35,000 communes.
    const communes = z.array(CommuneSchema).parse(all.filter((c) => typeof c.code === 'string' && c.code.startsWith('751')));
    const districts = communes
      .filter((c) => c.type === 'arrondissement-municipal' && /^751\d\d$/.test(c.code) && c.population)
      .map((c) => ({ code: c.code, name: c.nom, electorate: c.population! }))
      .sort((a, b) => a.code.localeCompare(b.code));
    if (districts.length === 20) return { districts, source: 'insee' };
  } catch {
    // Fall through to the figures kept here.
  }
  return {
    districts: PARIS_FALLBACK.map(([code, electorate]) => ({ code, name: `Paris ${Number(code.slice(3))}${code === '75101' ? 'er' : 'e'} Arrondissement`, electorate })),
    source: 'fallback',
  };
}

const GIVEN = ['Camille', 'Louis', 'Chloé', 'Hugo', 'Inès', 'Jules', 'Léa', 'Nathan', 'Manon', 'Adam', 'Zoé', 'Gabriel', 'Sarah', 'Raphaël', 'Jeanne', 'Malik'];
const FAMILY = ['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel', 'Lefebvre', 'Leroy', 'Roux', 'Nguyen', 'Diallo'];

/** A made-up signer, the same for the same index on every run. */
function demoSigner(index: number) {
  const year = 1950 + ((index * 7) % 55);
  const month = 1 + ((index * 5) % 12);
  const day = 1 + ((index * 11) % 28);
  return {
    givenNames: GIVEN[index % GIVEN.length]!,
    familyName: `${FAMILY[(index * 3) % FAMILY.length]!}-${index}`,
    birthdate: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    assurance: 'eidas2',
  };
}

function demoPrincipal(subject: string, identity?: Principal['identity']): Principal {
  return { subject, issuer: 'demo', assurance: 'eidas2', identity, missingClaims: [], isAdmin: false, via: 'session' };
}

/** A made-up committee member: committees count persons (names and birth date), not subs. */
function demoMember(subject: string, index: number) {
  return demoPrincipal(subject, { givenNames: GIVEN[index % GIVEN.length]!, familyName: 'Comité', birthdate: `1970-01-${String(1 + index).padStart(2, '0')}` });
}

export interface DemoOutcome {
  seeded: boolean;
  source?: 'insee' | 'fallback';
  initiatives?: string[];
}

/**
 * Seeds a development demo through the services (so counts, log entries and audit are real):
 * Ville de Paris with its arrondissements, dev-clerk as its clerk, and two open initiatives with
 * signatures spread over the last days. Runs once: nothing happens when Paris already exists.
 */
export async function seedDemo(deps: AppDeps): Promise<DemoOutcome> {
  if (deps.config.production) return { seeded: false };
  const db = deps.db.db;
  const exists = await getJurisdiction(db, DEMO_JURISDICTION).then(
    () => true,
    (error) => {
      if (error instanceof Problem && error.status === 404) return false;
      throw error;
    },
  );
  if (exists) return { seeded: false };

  const now = deps.clock();
  const start = new Date(now.getTime() - 12 * DAY_MS);
  const { districts, source } = await parisDistricts();
  const electorate = districts.reduce((sum, d) => sum + d.electorate, 0);
  try {
    await createJurisdiction(
      db,
      {
        id: DEMO_JURISDICTION,
        name: 'Ville de Paris',
        electorate,
        minimumAge: 16,
        requireRoll: false,
        minimumAssurance: 'eidas2',
        committeeMinimum: 2,
        timeZone: 'Europe/Paris',
        districtTerm: 'arrondissement',
        districts,
        rules: {
          agenda: {
            goal: { signatures: 5000 },
            collectionDays: 365,
            closeWhenMet: false,
            milestones: [
              { signatures: 25, label: 'Premier palier : réponse écrite de la mairie' },
              { signatures: 1000, label: 'Audition au conseil d’arrondissement' },
            ],
          },
          referendum: { goal: { ratio: 0.1 }, districts: { minCount: 10, each: { ratio: 0.05 } }, collectionDays: 270, closeWhenMet: false, milestones: [] },
        },
      },
      'demo',
      start,
    );
  } catch (error) {
    // Another process seeded it first: that demo stands.
    if (error instanceof Problem && error.status === 409) return { seeded: false };
    throw error;
  }
  await grantClerk(db, DEMO_JURISDICTION, DEMO_CLERK, 'demo', start);

  const clerk = demoPrincipal(DEMO_CLERK);
  const drafts = [
    {
      input: {
        jurisdictionId: DEMO_JURISDICTION,
        kind: 'agenda' as const,
        language: 'fr',
        title: 'Des arbres dans chaque cour d’école',
        summary: 'Demander au Conseil de Paris de débattre d’un plan pour planter des arbres et retirer le bitume des cours d’école d’ici 2030.',
        text: 'Les cours d’école bitumées deviennent des îlots de chaleur en été.\n\nNous demandons au Conseil de Paris d’inscrire à son ordre du jour un plan pluriannuel pour végétaliser toutes les cours d’école, en associant les enfants, les parents et les équipes éducatives.',
      },
      signatures: 48,
      sponsor: 'demo-sponsor-arbres',
    },
    {
      input: {
        jurisdictionId: DEMO_JURISDICTION,
        kind: 'referendum' as const,
        language: 'fr',
        title: 'Des rues aux écoles',
        summary: 'Fermer à la circulation les rues devant les écoles aux heures d’entrée et de sortie.',
        text: 'Article unique. Les rues qui desservent une école sont fermées à la circulation automobile de 8 h à 9 h et de 16 h à 17 h, les jours de classe.',
        question: 'Approuvez-vous la fermeture à la circulation des rues devant les écoles aux heures d’entrée et de sortie ?',
      },
      signatures: 30,
      sponsor: 'demo-sponsor-rues',
    },
  ];

  const ids: string[] = [];
  let signerIndex = 0;
  for (const [n, draft] of drafts.entries()) {
    const sponsor = demoPrincipal(draft.sponsor);
    const t0 = new Date(start.getTime() + n * 3_600_000);
    const row = await createInitiative(db, draft.input, sponsor, deps.keys.keyring, t0);
    await joinCommittee(db, deps.keys.keyring, row.id, row.committeeCode, demoMember(`${draft.sponsor}-committee-1`, 2 * n), new Date(t0.getTime() + 60_000));
    await joinCommittee(db, deps.keys.keyring, row.id, row.committeeCode, demoMember(`${draft.sponsor}-committee-2`, 2 * n + 1), new Date(t0.getTime() + 120_000));
    await submit(db, row.id, sponsor, new Date(t0.getTime() + 180_000));
    const opensAt = new Date(t0.getTime() + DAY_MS);
    await review(db, row.id, { decision: 'open', opensAt: opensAt.toISOString() }, clerk, new Date(t0.getTime() + DAY_MS - 60_000));
    // Signatures spread over the collection so far, more of them lately: the history chart has a shape.
    const span = now.getTime() - opensAt.getTime() - 3_600_000;
    for (let i = 0; i < draft.signatures; i++) {
      const at = new Date(opensAt.getTime() + Math.sqrt((i + 1) / draft.signatures) * span);
      const district = districts[(signerIndex * 7) % districts.length]!.code;
      await sign({ ...deps, clock: () => at }, row.id, demoSigner(signerIndex++), { district });
    }
    ids.push(row.id);
  }
  deps.logger.info('demo seeded', { jurisdiction: DEMO_JURISDICTION, initiatives: ids.length, source });
  return { seeded: true, source, initiatives: ids };
}
