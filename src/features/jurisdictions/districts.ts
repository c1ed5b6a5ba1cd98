import { indexDistricts, lookUpDistrict, type DistrictIndex, type DistrictLookup } from '../../core/district-search';
import type { District } from '../../db/schema';
import type { JurisdictionRow } from './service';

/**
 * Up to this many districts the sign form lists them all in a select (Paris's 20 arrondissements,
 * the 27 member states, 26 cantons): a list one still scrolls through on a phone. Beyond (577
 * circonscriptions, thousands of communes), the signer types a name or a code.
 */
export const DISTRICT_LIST_MAX = 100;

/** Each jurisdiction's index, with the districts it was built from. */
const indexes = new Map<string, { districts: District[]; index: DistrictIndex<District> }>();

/** The same districts, in the same order: a few microseconds per thousand, against milliseconds to index them again. */
function sameDistricts(a: readonly District[], b: readonly District[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.code !== b[i]!.code || a[i]!.name !== b[i]!.name) return false;
  return true;
}

/**
 * The index of a jurisdiction's districts, built once and built again when they change. The row
 * read for the request is the reference (another process may have changed the districts), so the
 * index is checked against it rather than dropped by whoever changes it.
 */
export function districtIndexOf(jurisdiction: Pick<JurisdictionRow, 'id' | 'districts'>): DistrictIndex<District> {
  const cached = indexes.get(jurisdiction.id);
  if (cached && sameDistricts(cached.districts, jurisdiction.districts)) return cached.index;
  const index = indexDistricts(jurisdiction.districts);
  indexes.set(jurisdiction.id, { districts: jurisdiction.districts, index });
  return index;
}

/** The district a signer designates by name or code in a jurisdiction. */
export function lookUpDistrictOf(jurisdiction: Pick<JurisdictionRow, 'id' | 'districts'>, typed: string): DistrictLookup<District> {
  return lookUpDistrict(districtIndexOf(jurisdiction), typed);
}
