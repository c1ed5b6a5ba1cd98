import type { DistrictTerm } from '../../db/schema';
import { fr, type Messages } from './fr';

/** The French forms of what a jurisdiction calls its districts (GLOSSARY: arrondissement, circonscription, canton, État membre). */
const NOUNS: Record<DistrictTerm, { one: string; many: string; ofThe: string; codeOf: string; this: string; feminine: boolean }> = {
  arrondissement: { one: 'arrondissement', many: 'arrondissements', ofThe: 'de l’arrondissement', codeOf: 'd’arrondissement', this: 'Cet arrondissement', feminine: false },
  circonscription: { one: 'circonscription', many: 'circonscriptions', ofThe: 'de la circonscription', codeOf: 'de circonscription', this: 'Cette circonscription', feminine: true },
  canton: { one: 'canton', many: 'cantons', ofThe: 'du canton', codeOf: 'de canton', this: 'Ce canton', feminine: false },
  'member-state': { one: 'État membre', many: 'États membres', ofThe: 'de l’État membre', codeOf: 'd’État membre', this: 'Cet État membre', feminine: false },
};

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The French messages with every mention of districts in the jurisdiction's own word. */
export function frenchFor(term: DistrictTerm): Messages {
  const n = NOUNS[term];
  return {
    ...fr,
    initiative: {
      ...fr.initiative,
      districts: `Signatures par ${n.one}`,
      district: capital(n.one),
      chartTitle: `Signatures par ${n.one} (diagramme en barres)`,
      // The default messages' own function for arrondissements.
      districtsListed:
        term === 'arrondissement'
          ? fr.initiative.districtsListed
          : (shown: string, all: string) =>
              `Liste\u00a0: les ${n.many} ayant atteint leur minimum, puis ${n.feminine ? 'celles' : 'ceux'} qui ont le plus de signatures (${shown} sur ${all}).`,
      criterionDistricts: `${capital(n.many)} ayant atteint leur minimum`,
    },
    sign: {
      ...fr.sign,
      district: `Votre ${n.one}`,
      whichDistrict: n.feminine ? 'Laquelle est la vôtre\u00a0?' : 'Lequel est le vôtre\u00a0?',
      errors: {
        ...fr.sign.errors,
        district: `Choisissez votre ${n.one}.`,
        districtTyped: `Tapez le nom ou le code de votre ${n.one}.`,
        districtUnknown: `${n.feminine ? 'Aucune' : 'Aucun'} ${n.one} ne porte ce nom ou ce code.`,
        districtSeveral: `Plusieurs ${n.many} portent ce nom\u00a0: choisissez ${n.feminine ? 'la' : 'le'} vôtre.`,
      },
    },
    districtList: {
      ...fr.districtList,
      title: `Liste des ${n.many}`,
      link: `Liste des ${n.many} et de leurs codes`,
      // The default messages' own function for arrondissements.
      count:
        term === 'arrondissement'
          ? fr.districtList.count
          : (count: number, shown: string) => (count === 0 ? `${n.feminine ? 'Aucune' : 'Aucun'} ${n.one}` : count === 1 ? `1\u00a0${n.one}` : `${shown}\u00a0${n.many}`),
      usage: `Pour signer, en ligne ou sur un formulaire papier, indiquez le nom ou le code de votre ${n.one}.`,
      searchLabel: `Nom ou code ${n.ofThe}`,
      several: `Plusieurs ${n.many} portent ce nom.`,
    },
    manage: { ...fr.manage, furthest: `${capital(n.many)} les plus ${n.feminine ? 'éloignées' : 'éloignés'} de leur minimum` },
    clerk: {
      ...fr.clerk,
      paperHelp: fr.clerk.paperHelp.replace('code de l’arrondissement', `code ${n.ofThe}`),
      paperIneligible: { ...fr.clerk.paperIneligible, district: `Code ${n.codeOf} inconnu de la collectivité.` },
      exportDistricts: `Signatures par ${n.one} (CSV)`,
      verifiedDistricts: `Décompte vérifié par ${n.one}`,
      exportVerifiedDistricts: `Décompte vérifié de chaque ${n.one} (CSV)`,
      // The default messages' own function for arrondissements.
      verifiedDistrictsListed:
        term === 'arrondissement'
          ? fr.clerk.verifiedDistrictsListed
          : (shown: string, all: string) =>
              `Liste\u00a0: les ${n.many} sous leur minimum, puis ${n.feminine ? 'celles' : 'ceux'} qui l’atteignent avec le moins de marge, ` +
              `puis ${n.feminine ? 'celles' : 'ceux'} qui ont le plus de signatures valides (${shown} sur ${all}).`,
      // The default messages' own function for arrondissements.
      rollCheckDone:
        term === 'arrondissement'
          ? fr.clerk.rollCheckDone
          : (onRoll: string, notOnRoll: string, otherDistrict: string, noPersonalData: string) =>
              `Vérification sur la liste électorale\u00a0: signataires inscrits dans leur ${n.one} (signatures valides)\u00a0${onRoll}, non inscrits\u00a0${notOnRoll}, ` +
              `inscrits dans ${n.feminine ? 'une autre' : 'un autre'} ${n.one}\u00a0${otherDistrict}, sans données personnelles\u00a0${noPersonalData}.`,
    },
    fields: { ...fr.fields, paperFields: { ...fr.fields.paperFields, district: n.one } },
    results: { ...fr.results, districts: `Signatures valides par ${n.one}`, district: capital(n.one) },
    ineligible: { ...fr.ineligible, district: `${n.this} n’appartient pas à la collectivité.` },
  };
}
