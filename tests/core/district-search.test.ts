import { describe, expect, it } from 'vitest';
import { districtKey, indexDistricts, lookUpDistrict } from '../../src/core/district-search';

describe('finding a district from what a signer types', () => {
  const index = indexDistricts([
    { code: '94038', name: 'L’Haÿ-les-Roses' },
    { code: '2A004', name: 'Ajaccio' },
    { code: '59183', name: 'Dunkerque' },
    { code: '80001', name: 'Abbeville' },
    { code: '02001', name: 'Abbécourt' },
    { code: '68240', name: 'Œlenberg' },
  ]);
  const one = (typed: string) => {
    const found = lookUpDistrict(index, typed);
    return found.found === 'one' ? found.district.code : found;
  };

  it('reads names whatever their case, accents, apostrophes, hyphens and spaces', () => {
    expect(districtKey('  L’Haÿ-les-Roses ')).toBe('l hay les roses');
    expect(one("l'hay les   roses")).toBe('94038');
    expect(one('oelenberg')).toBe('68240');
    expect(one('DUNKERQUE')).toBe('59183');
  });

  it('takes a code whatever its case, and the name followed by its code as the lists write it', () => {
    expect(one('2a004')).toBe('2A004');
    expect(one('Ajaccio (2A004)')).toBe('2A004');
    expect(lookUpDistrict(index, 'Ajaccio (59183)').found).toBe('none');
  });

  it('suggests the names that begin with what was typed, or with a later word of theirs, and nothing for an empty text', () => {
    expect(lookUpDistrict(index, 'abb')).toEqual({ found: 'none', suggestions: [{ code: '02001', name: 'Abbécourt' }, { code: '80001', name: 'Abbeville' }] });
    expect(lookUpDistrict(index, 'roses')).toEqual({ found: 'none', suggestions: [{ code: '94038', name: 'L’Haÿ-les-Roses' }] });
    expect(lookUpDistrict(index, ' - ')).toEqual({ found: 'none', suggestions: [] });
  });
});
