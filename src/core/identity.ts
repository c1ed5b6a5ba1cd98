import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';

export type IdentityField = 'familyName' | 'givenNames' | 'birthdate';

export class InvalidIdentityError extends Error {
  readonly field: IdentityField;

  constructor(field: IdentityField, message: string) {
    super(message);
    this.name = 'InvalidIdentityError';
    this.field = field;
  }
}

// Upper-case letters that NFKD leaves whole; lower-case forms (æ, ø, þ, ı, ß …) reach them through toUpperCase.
const UNDECOMPOSED_LETTERS: Record<string, string> = {
  ẞ: 'SS',
  Æ: 'AE',
  Œ: 'OE',
  Ø: 'O',
  Ł: 'L',
  Đ: 'D',
  Ð: 'D',
  Þ: 'TH',
};
const UNDECOMPOSED_PATTERN = new RegExp(`[${Object.keys(UNDECOMPOSED_LETTERS).join('')}]`, 'gu');
/**
 * Modifier letters that NFKD leaves (U+02B9–U+02FF: ʼ ʻ ʹ ˈ ː ˆ …) are apostrophes, primes and
 * accents written alone, not letters of a name: OʼBrien is O'Brien. (ʰ, ˡ … decompose to letters first.)
 */
const MODIFIER_LETTERS = /[\u02b9-\u02ff]/gu;

/** The comparable form of a name: accents, case, spaces and punctuation do not matter. */
export function canonicalName(s: string): string {
  // Upper-cased before marks go, as the iota subscript U+0345 is a mark whose capital is the letter Ι.
  return s
    .normalize('NFKD')
    .toUpperCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(MODIFIER_LETTERS, '')
    .replace(UNDECOMPOSED_PATTERN, (letter) => UNDECOMPOSED_LETTERS[letter] ?? letter)
    .replace(/[^\p{L}]/gu, '');
}

/**
 * Commas that part given names: the Latin one, its fullwidth and small forms, and the commas of other
 * scripts (ideographic 、, Arabic ،, Armenian, N'Ko, Ethiopic, Mongolian, Vai). Matched before NFKD.
 */
const COMMAS = ',\uff0c\ufe50\ufe10\u3001\uff64\ufe51\ufe11\u060c\u2e41\u055d\u07f8\u1363\u1802\u1808\ua60d';
const GIVEN_NAME_SEPARATORS = new RegExp(`[\\s${COMMAS}]+`, 'u');
/** A hyphen or dash of any script (-, ‐, ‑, –, －…) with the white space around it. */
const SPACED_HYPHEN = /\s*(\p{Pd})\s*/gu;

/** First of the space- or comma-separated given names; "Jean-Pierre" is one name, and so is "Jean - Pierre". */
export function firstGivenName(givenNames: string): string {
  // White space next to a hyphen is a form copied as written, not a break between names.
  // A token without any letter (a stray "-" or ".") is not a name.
  const names = givenNames
    .replace(SPACED_HYPHEN, '$1')
    .split(GIVEN_NAME_SEPARATORS)
    .filter((name) => canonicalName(name) !== '');
  return names[0] ?? '';
}

const SPACE = /^\s$/u;
const COMMA = new RegExp(`^[${COMMAS}]$`, 'u');
const HYPHEN = /^\p{Pd}$/u;

/**
 * What one character does in `firstGivenName`, for code that reads names a character at a time:
 * a comma parts names; white space too, unless the nearest character on either side that is not
 * white space is a hyphen.
 */
export function givenNameBreak(c: string): 'space' | 'comma' | 'hyphen' | undefined {
  if (SPACE.test(c)) return 'space';
  if (COMMA.test(c)) return 'comma';
  if (HYPHEN.test(c)) return 'hyphen';
  return undefined;
}

/** `FAMILY|FIRSTGIVEN|YYYY-MM-DD`, the only form of a person that is ever hashed. */
export function canonicalIdentity(p: { familyName: string; givenNames: string; birthdate: string }): string {
  const family = canonicalName(p.familyName);
  if (family === '') throw new InvalidIdentityError('familyName', 'family name has no letters');
  const given = canonicalName(firstGivenName(p.givenNames));
  if (given === '') throw new InvalidIdentityError('givenNames', 'given names have no letters');
  if (!isCalendarDate(p.birthdate)) {
    throw new InvalidIdentityError('birthdate', 'birthdate is not a calendar date in YYYY-MM-DD');
  }
  return `${family}|${given}|${p.birthdate}`;
}

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real date in YYYY-MM-DD between 1900 and 2100. */
export function isCalendarDate(s: string): boolean {
  const match = CALENDAR_DATE.exec(s);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** Full years of age on the UTC calendar day of `date`. */
export function ageOn(birthdate: string, date: Date): number {
  if (!isCalendarDate(birthdate)) {
    throw new InvalidIdentityError('birthdate', 'birthdate is not a calendar date in YYYY-MM-DD');
  }
  const [birthYear, birthMonth, birthDay] = birthdate.split('-').map(Number) as [number, number, number];
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  // Born 29 Feb: in a non-leap year (2, 28) is still before the birthday, (3, 1) is after.
  const birthdayPassed = month > birthMonth || (month === birthMonth && day >= birthDay);
  return date.getUTCFullYear() - birthYear - (birthdayPassed ? 0 : 1);
}

/** HKDF-SHA256 of the pepper; `info` separates the key families (see initiativeKeyInfo, jurisdictionKeyInfo). */
export function deriveKey(pepper: Uint8Array, info: string): Uint8Array {
  return hkdf(sha256, pepper, undefined, utf8ToBytes(info), 32);
}

export function initiativeKeyInfo(initiativeId: string): string {
  return `initiative:${initiativeId}`;
}

export function jurisdictionKeyInfo(jurisdictionId: string): string {
  return `roll:${jurisdictionId}`;
}

/**
 * The committee's own key: committee rows are less secret than signatures (the committee is a public
 * role), so a committee member's hash must not be their signer hash, or an exported committee list
 * would point at their signature.
 */
export function committeeKeyInfo(initiativeId: string): string {
  return `committee:${initiativeId}`;
}

/** One person, one initiative: online and paper signatures collide, other initiatives cannot be linked. */
export function signerHash(initiativeKey: Uint8Array, canonical: string): Uint8Array {
  return hmac(sha256, initiativeKey, utf8ToBytes(canonical));
}

/** One person on one initiative's committee (the sponsor included): another `sub` of theirs is still them. */
export function committeeMemberHash(committeeKey: Uint8Array, canonical: string): Uint8Array {
  return hmac(sha256, committeeKey, utf8ToBytes(canonical));
}

/** A person on a jurisdiction's electoral roll, keyed per jurisdiction. */
export function rollHash(jurisdictionKey: Uint8Array, canonical: string): Uint8Array {
  return hmac(sha256, jurisdictionKey, utf8ToBytes(canonical));
}

/** A hash was asked for under a pepper version that is not configured (IDENTITY_PEPPER, IDENTITY_PEPPERS_PREVIOUS). */
export class UnknownKeyVersionError extends Error {
  readonly version: string;

  constructor(version: string) {
    super(`no pepper is configured for key version "${version}" (IDENTITY_PEPPER_VERSION, IDENTITY_PEPPERS_PREVIOUS)`);
    this.name = 'UnknownKeyVersionError';
    this.version = version;
  }
}

const PEPPER_CHECK_LABEL = 'civic-initiative-engine pepper check';

/** Peppers by version; old versions stay so hashes stored under them can still be recomputed. */
export class HashKeyring {
  readonly currentVersion: string;
  private readonly peppers: ReadonlyMap<string, Uint8Array>;
  private readonly derivedKeys = new Map<string, Uint8Array>();

  constructor(currentVersion: string, peppers: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>) {
    this.peppers = peppers instanceof Map ? new Map(peppers) : new Map(Object.entries(peppers));
    if (!this.peppers.has(currentVersion)) {
      throw new Error(`no pepper for the current key version "${currentVersion}"`);
    }
    this.currentVersion = currentVersion;
  }

  get versions(): string[] {
    return [...this.peppers.keys()];
  }

  /** A keyed check value of one version's pepper (HMAC-SHA256 of a fixed label): the same for the same pepper, and telling nothing of it. */
  checkValue(version: string): Uint8Array {
    const pepper = this.peppers.get(version);
    if (!pepper) throw new UnknownKeyVersionError(version);
    return hmac(sha256, pepper, utf8ToBytes(PEPPER_CHECK_LABEL));
  }

  keyFor(version: string, info: string): Uint8Array {
    const cacheKey = `${version}\u0000${info}`;
    const cached = this.derivedKeys.get(cacheKey);
    if (cached) return cached;
    const pepper = this.peppers.get(version);
    if (!pepper) throw new UnknownKeyVersionError(version);
    const key = deriveKey(pepper, info);
    this.derivedKeys.set(cacheKey, key);
    return key;
  }
}

export const ASSURANCE_LEVELS = ['eidas1', 'eidas2', 'eidas3'] as const;
export type Assurance = (typeof ASSURANCE_LEVELS)[number];
export const AssuranceSchema = z.enum(ASSURANCE_LEVELS);

/** eidas1 < eidas2 < eidas3; an assurance we do not know never passes. */
export function meetsAssurance(actual: string, minimum: Assurance): boolean {
  const rank = (ASSURANCE_LEVELS as readonly string[]).indexOf(actual);
  return rank !== -1 && rank >= ASSURANCE_LEVELS.indexOf(minimum);
}
