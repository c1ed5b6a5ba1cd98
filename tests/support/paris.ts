/** Ville de Paris and its 20 arrondissements, with INSEE's populations as their electorates: they add up to the jurisdiction's 2,103,778. */
export const PARIS_DISTRICTS = [
  ['75101', 'Paris 1er Arrondissement', 15114],
  ['75102', 'Paris 2e Arrondissement', 19847],
  ['75103', 'Paris 3e Arrondissement', 32179],
  ['75104', 'Paris 4e Arrondissement', 27332],
  ['75105', 'Paris 5e Arrondissement', 55252],
  ['75106', 'Paris 6e Arrondissement', 40389],
  ['75107', 'Paris 7e Arrondissement', 48015],
  ['75108', 'Paris 8e Arrondissement', 35317],
  ['75109', 'Paris 9e Arrondissement', 57271],
  ['75110', 'Paris 10e Arrondissement', 83873],
  ['75111', 'Paris 11e Arrondissement', 138170],
  ['75112', 'Paris 12e Arrondissement', 138024],
  ['75113', 'Paris 13e Arrondissement', 181271],
  ['75114', 'Paris 14e Arrondissement', 136455],
  ['75115', 'Paris 15e Arrondissement', 229713],
  ['75116', 'Paris 16e Arrondissement', 159386],
  ['75117', 'Paris 17e Arrondissement', 159212],
  ['75118', 'Paris 18e Arrondissement', 183127],
  ['75119', 'Paris 19e Arrondissement', 178691],
  ['75120', 'Paris 20e Arrondissement', 185140],
].map(([code, name, electorate]) => ({ code: code as string, name: name as string, electorate: electorate as number }));

/** The jurisdiction of SPEC §10, with thresholds small enough for a test story. */
export function parisJurisdiction(overrides: Record<string, unknown> = {}) {
  return {
    id: 'paris',
    name: 'Ville de Paris',
    electorate: 2103778,
    minimumAge: 16,
    requireRoll: false,
    minimumAssurance: 'eidas2',
    committeeMinimum: 2,
    districts: PARIS_DISTRICTS,
    rules: {
      agenda: { goal: { signatures: 5000 }, collectionDays: 365 },
      referendum: {
        goal: { signatures: 5 },
        districts: { minCount: 2, each: { signatures: 2 } },
        collectionDays: 270,
        milestones: [{ signatures: 3, label: 'premier palier' }],
      },
    },
    ...overrides,
  };
}

/** Adults of Paris the API tests sign with (names with accents, hyphens and particles). */
export const PARISIANS = {
  elodie: { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12' },
  karim: { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' },
  lea: { givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' },
  jean: { givenNames: 'Jean-Pierre', familyName: 'de La Fontaine', birthdate: '1956-07-14' },
  sofia: { givenNames: 'Sofia', familyName: 'Rossi', birthdate: '1978-09-30' },
};

export const REFERENDUM_DRAFT = {
  jurisdictionId: 'paris',
  kind: 'referendum',
  title: 'Des rues aux écoles',
  summary: 'Fermer à la circulation les rues devant les écoles aux heures d’entrée et de sortie.',
  text: 'Article unique. Les rues qui desservent une école sont fermées à la circulation de 8 h à 9 h et de 16 h à 17 h.',
  question: 'Approuvez-vous la fermeture des rues devant les écoles aux heures d’entrée et de sortie ?',
};

/** The calendar day in Paris (YYYY-MM-DD) at an instant: the day a paper form signed then bears, not the UTC date. */
export const parisDay = (at: Date | string): string => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date(at));
