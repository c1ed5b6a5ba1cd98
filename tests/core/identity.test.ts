import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSURANCE_LEVELS,
  HashKeyring,
  InvalidIdentityError,
  ageOn,
  canonicalIdentity,
  canonicalName,
  deriveKey,
  firstGivenName,
  initiativeKeyInfo,
  isCalendarDate,
  jurisdictionKeyInfo,
  meetsAssurance,
  rollHash,
  signerHash,
  UnknownKeyVersionError,
} from '../../src/core/identity';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const pepper = new Uint8Array(32).map((_, i) => i + 1);

// Letters people actually have in their names, including the ones NFKD does not decompose.
const nameLetter = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëàâäçîïôöùûüÿñåøæœßłđðþÉÈÀÇÖÜØÆŒŁĐÞ');
const name = fc.array(nameLetter, { minLength: 1, maxLength: 20 }).map((letters) => letters.join(''));
const asciiName = fc
  .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'), { minLength: 1, maxLength: 20 })
  .map((letters) => letters.join(''));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 30 }));

describe('canonicalName', () => {
  it('agrees on Élodie, ELODIE and elodie', () => {
    expect(canonicalName('Élodie')).toBe('ELODIE');
    expect(canonicalName('ELODIE')).toBe('ELODIE');
    expect(canonicalName('elodie')).toBe('ELODIE');
    expect(canonicalName('E\u0301lodie')).toBe('ELODIE');
  });

  it('ignores spaces and particles written apart', () => {
    expect(canonicalName('de La Fontaine')).toBe('DELAFONTAINE');
    expect(canonicalName('DELAFONTAINE')).toBe('DELAFONTAINE');
    expect(canonicalName("O'Brien-Smith Jr.")).toBe('OBRIENSMITHJR');
  });

  it('maps letters that do not decompose', () => {
    expect(canonicalName('Müller')).toBe('MULLER');
    expect(canonicalName('MULLER')).toBe('MULLER');
    expect(canonicalName('Straße')).toBe('STRASSE');
    expect(canonicalName('STRAẞE')).toBe('STRASSE');
    expect(canonicalName('Œuvre')).toBe('OEUVRE');
    expect(canonicalName('œuvre')).toBe('OEUVRE');
    expect(canonicalName('Łukasz')).toBe('LUKASZ');
    expect(canonicalName('Ærø')).toBe('AERO');
    expect(canonicalName('Søren')).toBe('SOREN');
    expect(canonicalName('Đorđević')).toBe('DORDEVIC');
    expect(canonicalName('Guðrún')).toBe('GUDRUN');
    expect(canonicalName('Þórunn')).toBe('THORUNN');
    expect(canonicalName('Yıldız')).toBe('YILDIZ');
  });

  it('drops digits and punctuation entirely', () => {
    expect(canonicalName(' 12 - . ')).toBe('');
  });

  it('reads an apostrophe written as a modifier letter as the apostrophe it stands for', () => {
    // ʼ (U+02BC) is what some keyboards and word processors type for O'Brien; ʻ ʹ ˈ look the same on a form.
    for (const apostrophe of ["'", '\u2019', '\u02bc', '\u02bb', '\u02b9', '\u02c8', '\u02bd', '\u02ee']) {
      expect(canonicalName(`O${apostrophe}Brien`), JSON.stringify(apostrophe)).toBe('OBRIEN');
    }
    expect(canonicalName('Hawaiʻi')).toBe('HAWAII');
  });

  it('is idempotent', () => {
    fc.assert(fc.property(anyText, (s) => canonicalName(canonicalName(s)) === canonicalName(s)), { numRuns: 2000 });
  });

  it('does not depend on case', () => {
    expect(canonicalName('ᾳ')).toBe(canonicalName('ᾳ'.toUpperCase()));
    fc.assert(fc.property(name, (s) => canonicalName(s.toUpperCase()) === canonicalName(s.toLowerCase())));
    fc.assert(fc.property(anyText, (s) => canonicalName(s.toUpperCase()) === canonicalName(s.toLowerCase())), {
      numRuns: 2000,
    });
  });

  it('ignores spaces, hyphens, apostrophes and dots inserted in a family name', () => {
    const separator = fc.constantFrom(' ', '-', "'", '’', '.', '  ', ' - ');
    fc.assert(
      fc.property(name, fc.array(fc.tuple(fc.nat(), separator), { maxLength: 5 }), (family, insertions) => {
        const letters = [...family];
        for (const [position, sep] of insertions) letters.splice(position % (letters.length + 1), 0, sep);
        return canonicalName(letters.join('')) === canonicalName(family);
      }),
    );
  });

  it('strips accents added to ASCII letters, composed or not', () => {
    // U+0345 is left out: it is the Greek iota subscript, whose capital is a letter, not an accent.
    const combiningMark = fc
      .integer({ min: 0x300, max: 0x36f })
      .filter((code) => code !== 0x345)
      .map((code) => String.fromCodePoint(code));
    fc.assert(
      fc.property(asciiName, fc.array(fc.array(combiningMark, { maxLength: 2 }), { maxLength: 20 }), (ascii, marks) => {
        const accented = [...ascii].map((letter, i) => letter + (marks[i] ?? []).join('')).join('');
        const expected = ascii.toUpperCase();
        return canonicalName(accented) === expected && canonicalName(accented.normalize('NFC')) === expected;
      }),
    );
  });

  it('outputs only upper-case letters', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const canonical = canonicalName(s);
        return /^\p{L}*$/u.test(canonical) && canonical === canonical.toUpperCase();
      }),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(name, (s) => /^[A-Z]+$/.test(canonicalName(s))));
  });
});

describe('firstGivenName', () => {
  it('takes the first of space- or comma-separated names, keeping hyphenated compounds', () => {
    expect(firstGivenName('Jean-Pierre Marie')).toBe('Jean-Pierre');
    expect(firstGivenName('  Jean-Pierre  ')).toBe('Jean-Pierre');
    expect(firstGivenName('Marie, Louise, Anne')).toBe('Marie');
    expect(firstGivenName('Marie,Louise')).toBe('Marie');
    expect(canonicalName(firstGivenName(', - Anne Claire'))).toBe('ANNE');
    expect(firstGivenName('   ')).toBe('');
  });

  it('keeps a compound name whole when spaces surround its hyphen, whatever the dash', () => {
    // A clerk copying a handwritten form types what they see: "Jean - Pierre" is Jean-Pierre.
    for (const spelling of ['Jean - Pierre', 'Jean- Pierre', 'Jean -Pierre', 'Jean  -  Pierre Marie', 'Jean\u00a0-\u00a0Pierre', 'Jean\u2010Pierre', 'Jean \u2011 Pierre', 'Jean \u2013 Pierre', 'Jean\uff0d Pierre']) {
      expect(canonicalName(firstGivenName(spelling)), JSON.stringify(spelling)).toBe('JEANPIERRE');
    }
    // A comma still separates, hyphen or not.
    expect(canonicalName(firstGivenName('Jean -, Pierre'))).toBe('JEAN');
    expect(canonicalName(firstGivenName('Jean ,- Pierre'))).toBe('JEAN');
  });

  it('parts names at the commas of other scripts too', () => {
    for (const comma of ['\uff0c', '\u3001', '\u060c', '\ufe50', '\uff64']) {
      expect(canonicalName(firstGivenName(`Marie${comma}Louise`)), JSON.stringify(comma)).toBe('MARIE');
      expect(canonicalName(firstGivenName(`Marie${comma} Louise`)), JSON.stringify(comma)).toBe('MARIE');
    }
  });

  it('gives the same first name whatever white space is put around the hyphens of a compound', () => {
    const space = fc.constantFrom('', ' ', '  ', '\u00a0', '\t');
    const dash = fc.constantFrom('-', '\u2010', '\u2011', '\u2013');
    fc.assert(
      fc.property(fc.array(name, { minLength: 2, maxLength: 4 }), space, dash, space, (parts, before, hyphen, after) => {
        const compound = parts.join('-');
        const spaced = parts.join(`${before}${hyphen}${after}`);
        return canonicalName(firstGivenName(`${spaced} Marie`)) === canonicalName(compound);
      }),
    );
  });
});

describe('canonicalIdentity', () => {
  const person = { familyName: 'de La Fontaine', givenNames: 'Jean-Pierre Marie', birthdate: '1980-02-29' };

  it('is FAMILY|FIRSTGIVEN|YYYY-MM-DD', () => {
    expect(canonicalIdentity(person)).toBe('DELAFONTAINE|JEANPIERRE|1980-02-29');
  });

  it('agrees across spellings of the same person', () => {
    expect(canonicalIdentity({ familyName: 'DELAFONTAINE', givenNames: 'JEAN-PIERRE', birthdate: '1980-02-29' })).toBe(
      canonicalIdentity(person),
    );
    expect(canonicalIdentity({ familyName: 'Müller', givenNames: 'Élodie, Anne', birthdate: '1990-01-01' })).toBe(
      canonicalIdentity({ familyName: 'MULLER', givenNames: 'elodie', birthdate: '1990-01-01' }),
    );
  });

  it('names the field that is unusable', () => {
    const fieldOf = (p: typeof person) => {
      try {
        canonicalIdentity(p);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidIdentityError);
        return (error as InvalidIdentityError).field;
      }
      return null;
    };
    expect(fieldOf({ ...person, familyName: ' - ' })).toBe('familyName');
    expect(fieldOf({ ...person, givenNames: '' })).toBe('givenNames');
    expect(fieldOf({ ...person, birthdate: '1981-02-29' })).toBe('birthdate');
    expect(fieldOf({ ...person, birthdate: '29/02/1980' })).toBe('birthdate');
  });
});

describe('isCalendarDate', () => {
  it('accepts real dates from 1900 to 2100 only', () => {
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('1900-01-01')).toBe(true);
    expect(isCalendarDate('2100-12-31')).toBe(true);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('2023-04-31')).toBe(false);
    expect(isCalendarDate('2023-13-01')).toBe(false);
    expect(isCalendarDate('2023-00-10')).toBe(false);
    expect(isCalendarDate('1899-12-31')).toBe(false);
    expect(isCalendarDate('2101-01-01')).toBe(false);
    expect(isCalendarDate('2023-1-01')).toBe(false);
    expect(isCalendarDate('2023-01-01T00:00:00Z')).toBe(false);
  });
});

describe('ageOn', () => {
  it('counts the birthday itself as a full year', () => {
    expect(ageOn('2008-06-15', new Date('2024-06-15T00:00:00Z'))).toBe(16);
    expect(ageOn('2008-06-15', new Date('2024-06-14T23:59:59Z'))).toBe(15);
  });

  it('uses the UTC calendar date', () => {
    expect(ageOn('2008-06-15', new Date('2024-06-15T00:30:00+02:00'))).toBe(15);
  });

  it('makes someone born on 29 February older on 1 March in non-leap years', () => {
    expect(ageOn('2004-02-29', new Date('2022-02-28T12:00:00Z'))).toBe(17);
    expect(ageOn('2004-02-29', new Date('2022-03-01T00:00:00Z'))).toBe(18);
    expect(ageOn('2004-02-29', new Date('2024-02-29T00:00:00Z'))).toBe(20);
    expect(ageOn('2004-02-29', new Date('2024-02-28T00:00:00Z'))).toBe(19);
  });

  it('rejects a birthdate that is not a date', () => {
    expect(() => ageOn('2004-02-30', new Date())).toThrow(InvalidIdentityError);
  });
});

describe('signer and roll hashes', () => {
  const initiativeKey = (id: string) => deriveKey(pepper, initiativeKeyInfo(id));
  const canonical = 'DELAFONTAINE|JEANPIERRE|1980-02-29';

  it('gives the same person the same hash on one initiative, whatever the spelling', () => {
    const other = canonicalIdentity({ familyName: 'de la fontaine', givenNames: 'Jean-Pierre', birthdate: '1980-02-29' });
    expect(hex(signerHash(initiativeKey('a'), other))).toBe(hex(signerHash(initiativeKey('a'), canonical)));
  });

  it('cannot link one person across initiatives', () => {
    expect(hex(signerHash(initiativeKey('a'), canonical))).not.toBe(hex(signerHash(initiativeKey('b'), canonical)));
  });

  it('keeps initiative and roll keys apart even for equal ids', () => {
    expect(initiativeKeyInfo('x')).toBe('initiative:x');
    expect(jurisdictionKeyInfo('x')).toBe('roll:x');
    expect(hex(deriveKey(pepper, initiativeKeyInfo('x')))).not.toBe(hex(deriveKey(pepper, jurisdictionKeyInfo('x'))));
  });

  it('matches HKDF-SHA256 and HMAC-SHA256 from node:crypto', () => {
    const key = deriveKey(pepper, initiativeKeyInfo('paris-velo'));
    const expectedKey = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), 'initiative:paris-velo', 32));
    expect(hex(key)).toBe(expectedKey.toString('hex'));
    expect(key).toHaveLength(32);

    const expectedHash = createHmac('sha256', expectedKey).update(canonical, 'utf8').digest('hex');
    expect(hex(signerHash(key, canonical))).toBe(expectedHash);
    expect(hex(rollHash(key, canonical))).toBe(expectedHash);
  });
});

describe('HashKeyring', () => {
  const oldPepper = new Uint8Array(32).fill(7);

  it('derives and remembers keys per version', () => {
    const keyring = new HashKeyring('v2', { v1: oldPepper, v2: pepper });
    expect(keyring.currentVersion).toBe('v2');
    const key = keyring.keyFor('v2', initiativeKeyInfo('a'));
    expect(hex(key)).toBe(hex(deriveKey(pepper, initiativeKeyInfo('a'))));
    expect(keyring.keyFor('v2', initiativeKeyInfo('a'))).toBe(key);
    expect(hex(keyring.keyFor('v1', initiativeKeyInfo('a')))).toBe(hex(deriveKey(oldPepper, initiativeKeyInfo('a'))));
  });

  it('accepts a Map', () => {
    const keyring = new HashKeyring('v1', new Map([['v1', pepper]]));
    expect(hex(keyring.keyFor('v1', 'roll:paris'))).toBe(hex(deriveKey(pepper, 'roll:paris')));
  });

  it('refuses unknown versions', () => {
    const keyring = new HashKeyring('v1', { v1: pepper });
    expect(() => keyring.keyFor('v0', 'roll:paris')).toThrow(UnknownKeyVersionError);
    expect(() => keyring.keyFor('v0', 'roll:paris')).toThrow(/"v0"/);
    expect(() => new HashKeyring('v3', { v1: pepper })).toThrow(/v3/);
  });
});

describe('meetsAssurance', () => {
  it('orders eidas1 < eidas2 < eidas3', () => {
    expect(ASSURANCE_LEVELS).toEqual(['eidas1', 'eidas2', 'eidas3']);
    expect(meetsAssurance('eidas2', 'eidas2')).toBe(true);
    expect(meetsAssurance('eidas3', 'eidas2')).toBe(true);
    expect(meetsAssurance('eidas1', 'eidas2')).toBe(false);
    expect(meetsAssurance('eidas1', 'eidas1')).toBe(true);
  });

  it('never accepts an unknown assurance', () => {
    expect(meetsAssurance('', 'eidas1')).toBe(false);
    expect(meetsAssurance('EIDAS3', 'eidas1')).toBe(false);
    expect(meetsAssurance('toString', 'eidas1')).toBe(false);
  });
});
