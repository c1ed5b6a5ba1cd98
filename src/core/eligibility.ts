import { districtsByCode } from './districts';
import { ageOn, meetsAssurance, type Assurance } from './identity';

export type EligibilityRule = 'age' | 'district' | 'assurance' | 'roll';

export type Eligibility = { eligible: true } | { eligible: false; rule: EligibilityRule; detail: string };

export interface EligibilityRules {
  minimumAge: number;
  minimumAssurance: Assurance;
  districts: readonly { code: string }[];
  /** The jurisdiction requires its roll: the roll's district wins, so a declared one is not judged here. */
  requireRoll?: boolean;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of an instant in a time zone (the jurisdiction's), as YYYY-MM-DD. */
export function localDay(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) dayFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return format.format(at);
}

/** A calendar day as the instant eligibility is judged on (its UTC noon: ageOn reads the UTC day). */
export function dayInstant(day: string): Date {
  return new Date(`${day}T12:00:00Z`);
}

/**
 * SPEC §4: who may sign, checked on the signing date. The roll check needs the database and is done
 * by the caller; with a required roll, it decides the district too.
 */
export function checkEligibility(
  rules: EligibilityRules,
  signer: { birthdate: string; assurance: string; district: string },
  signingDate: Date,
): Eligibility {
  const age = ageOn(signer.birthdate, signingDate);
  if (age < rules.minimumAge) {
    return { eligible: false, rule: 'age', detail: `Signers must be at least ${rules.minimumAge} years old on the signing date.` };
  }
  if (!rules.requireRoll && !districtsByCode(rules.districts).has(signer.district)) {
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
