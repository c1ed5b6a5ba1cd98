import { describe, expect, it } from 'vitest';
import { en } from '../../src/web/i18n/en';
import { fr } from '../../src/web/i18n/fr';
import { translator } from '../../src/web/i18n';

/** Every message as a reader could see it: functions called with sample arguments, by key path. */
function strings(messages: unknown, path = ''): Map<string, string> {
  const found = new Map<string, string>();
  if (typeof messages === 'string') found.set(path, messages);
  else if (typeof messages === 'function') {
    for (const arg of ['7', 7, 1, '1']) found.set(`${path}(${JSON.stringify(arg)})`, String((messages as (...a: unknown[]) => unknown)(arg, arg, arg)));
  } else if (messages && typeof messages === 'object') {
    for (const [key, value] of Object.entries(messages)) for (const [p, s] of strings(value, path ? `${path}.${key}` : key)) found.set(p, s);
  }
  return found;
}

/** Key paths of a message tree (the type checks only some of them: a Record<string, string> takes any keys). */
function keys(messages: object, path = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) => {
    const p = path ? `${path}.${key}` : key;
    return value && typeof value === 'object' && !Array.isArray(value) ? keys(value, p) : [p];
  });
}

describe('the English messages', () => {
  it('have every key of the French ones, and no other', () => {
    expect(keys(en).sort()).toEqual(keys(fr).sort());
  });

  it('follow English typography: no space before a colon, semicolon or percent sign, no French quotation marks or no-break spaces', () => {
    const wrong = [...strings(en)].filter(([, s]) => /\u00a0|\u202f|«|»|\s[:;!?%]|\d %/.test(s)).map(([path, s]) => `${path}: ${s}`);
    expect(wrong).toEqual([]);
  });

  it('count one signature in the singular and several in the plural, in both languages', () => {
    expect(en.results.certifiedOn('1 May 2027', 1, '1')).toBe('Certified on 1 May 2027 with 1 valid signature.');
    expect(en.results.certifiedOn('1 May 2027', 5000, '5,000')).toBe('Certified on 1 May 2027 with 5,000 valid signatures.');
    expect(en.results.raw(1, '1')).toBe('1 signature collected');
    expect(fr.results.certifiedOn('1 mai 2027', 1, '1')).toBe('Certifiée le 1 mai 2027 avec 1 signature valide.');
    expect(fr.results.certifiedOn('1 mai 2027', 5000, '5\u202f000')).toBe('Certifiée le 1 mai 2027 avec 5\u202f000 signatures valides.');
    expect(fr.results.raw(0, '0')).toBe('0 signature recueillie');
  });
});

describe('the French messages', () => {
  it('follow French typography: a no-break space before a colon, semicolon, question or exclamation mark, percent sign and closing guillemet, and after an opening one', () => {
    // An ordinary space there lets the sign start a line of its own: « Le comité compte 0 membre
    // … porteuse / ; il en faut 1 ».
    const wrong = [...strings(fr)].filter(([, s]) => / [:;!?%»]|« /.test(s)).map(([path, s]) => `${path}: ${s}`);
    expect(wrong).toEqual([]);
  });
});

describe('percentages of a goal', () => {
  it('never show a goal short of its last signature as 100 %, in either language', () => {
    const almost = 4_799_999 / 4_800_000;
    expect(translator('fr').percent(almost)).toBe('99,9\u00a0%');
    expect(translator('en').percent(almost)).toBe('99.9%');
    expect(translator('fr').percent(1)).toBe('100\u00a0%');
    expect(translator('en').percent(1.25)).toBe('125%');
    expect(translator('en').percent(0.4567)).toBe('45.7%');
  });
});
