import { ageOn, meetsAssurance, type Assurance } from './identity';

export type EligibilityRule = 'age' | 'district' | 'assurance' | 'roll';

export type Eligibility = { eligible: true } | { eligible: false; rule: EligibilityRule; detail: string };

export interface EligibilityRules {
  minimumAge: number;
  minimumAssurance: Assurance;
  districts: readonly { code: string }[];
}

/** SPEC §4: who may sign, checked on the signing date. The roll check needs the database and is done by the caller. */
export function checkEligibility(
  rules: EligibilityRules,
  signer: { birthdate: string; assurance: string; district: string },
  signingDate: Date,
): Eligibility {
  const age = ageOn(signer.birthdate, signingDate);
  if (age < rules.minimumAge) {
    return { eligible: false, rule: 'age', detail: `Signers must be at least ${rules.minimumAge} years old on the signing date.` };
  }
  if (!rules.districts.some((d) => d.code === signer.district)) {
    return { eligible: false, rule: 'district', detail: `District "${signer.district}" is not one of this jurisdiction's.` };
  }
  if (!meetsAssurance(signer.assurance, rules.minimumAssurance)) {
    return {
      eligible: false,
      rule: 'assurance',
      detail: `This jurisdiction requires identity assurance ${rules.minimumAssurance} or higher; the identity provided is ${signer.assurance}.`,
    };
  }
  return { eligible: true };
}
