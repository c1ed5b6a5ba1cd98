import { describe, expect, it } from 'vitest';
import { districtChanges } from '../../src/core/districts';

describe('the difference between two district lists, as the audit trail records it', () => {
  const before = [
    { code: 'A', name: 'Alpha', electorate: 10 },
    { code: 'B', name: 'Bravo', electorate: 20 },
    { code: 'C', name: 'Charlie', electorate: 30 },
  ];

  it('is empty for the same list', () => {
    expect(districtChanges(before, before.map((d) => ({ ...d })))).toEqual({ added: [], removed: [], changed: [], reordered: false });
  });

  it('names each district by code with the settings that changed, before and after; added and removed ones whole', () => {
    const after = [
      { code: 'A', name: 'Alpha', electorate: 12 },
      { code: 'D', name: 'Delta', electorate: 5 },
      { code: 'B', name: 'Bravo-Nord', electorate: 21 },
    ];
    expect(districtChanges(before, after)).toEqual({
      added: [{ code: 'D', name: 'Delta', electorate: 5 }],
      removed: [{ code: 'C', name: 'Charlie', electorate: 30 }],
      changed: [
        { code: 'A', before: { electorate: 10 }, after: { electorate: 12 } },
        { code: 'B', before: { name: 'Bravo', electorate: 20 }, after: { name: 'Bravo-Nord', electorate: 21 } },
      ],
      reordered: false,
    });
  });

  it('says when the districts kept are listed in another order, and nothing else changed', () => {
    expect(districtChanges(before, [before[2]!, before[0]!, before[1]!])).toEqual({ added: [], removed: [], changed: [], reordered: true });
    // A district added or removed in the middle is not a new order of the others.
    expect(districtChanges(before, [before[0]!, { code: 'Z', name: 'Zulu', electorate: 1 }, before[2]!]).reordered).toBe(false);
  });
});
