import { z } from '@hono/zod-openapi';
import { indexDistricts, lookUpDistrict, type DistrictIndex, type DistrictLookup } from '../../core/district-search';
import type { District } from '../../db/schema';
import type { JurisdictionRow } from './service';

/**
 * Up to this many districts the sign form lists them all in a select (Paris's 20 arrondissements,
 * the 27 member states, 26 cantons): a list one still scrolls through on a phone. Beyond (577
 * circonscriptions, thousands of communes), the signer types a name or a code.
 */
export const DISTRICT_LIST_MAX = 100;

/** Districts on one page of a jurisdiction's public list: 35,000 communes make 175 pages of a few dozen kilobytes. */
export const DISTRICT_PAGE_SIZE = 200;

/** The public list's query: a page (from 1; empty is the first) or words to look up, as long as the home page's search takes. */
export const DistrictListQuerySchema = z.object({
  page: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).default(1)),
  q: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().max(200).optional()),
});

/** How many pages the public list of these districts takes (an empty list is one empty page). */
export const districtPages = (districts: readonly unknown[]) => Math.max(1, Math.ceil(districts.length / DISTRICT_PAGE_SIZE));

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
