/**
 * Finding a district from what a signer types, for jurisdictions with too many districts to list
 * (577 circonscriptions, 35,000 communes): its exact code, or its name read the way people write it,
 * whatever the case, accents, hyphens, apostrophes and spaces ("saint etienne" is "Saint-Étienne").
 */

export interface NamedDistrict {
  code: string;
  name: string;
}

/** Lower case, without accents; anything but letters and digits (hyphens, apostrophes, dots) is one space. */
export function districtKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Codes are compared whatever their case and spaces ("2a 004" is "2A004"). */
const codeKey = (text: string) => text.replace(/\s+/g, '').toUpperCase();

export interface DistrictIndex<D extends NamedDistrict> {
  byCode: Map<string, D>;
  byName: Map<string, D[]>;
  /** The keys of the names, sorted, each once: those beginning with a text are found by binary search. */
  names: string[];
}

export function indexDistricts<D extends NamedDistrict>(districts: readonly D[]): DistrictIndex<D> {
  const byCode = new Map<string, D>();
  const byName = new Map<string, D[]>();
  for (const d of districts) {
    byCode.set(codeKey(d.code), d);
    const key = districtKey(d.name);
    const same = byName.get(key);
    if (same) same.push(d);
    else byName.set(key, [d]);
  }
  return { byCode, byName, names: [...byName.keys()].sort() };
}

/** What a signer's words designate: one district, several of the same name, or none (with names close to them). */
export type DistrictLookup<D> = { found: 'one'; district: D } | { found: 'several'; candidates: D[] } | { found: 'none'; suggestions: D[] };

/** "Saint-Étienne (42218)", as a list of candidates or suggestions writes a district. */
const WITH_CODE = /^(.*)\(([^()]+)\)\s*$/;

export function lookUpDistrict<D extends NamedDistrict>(index: DistrictIndex<D>, typed: string, suggestions = 8): DistrictLookup<D> {
  const byCode = index.byCode.get(codeKey(typed));
  const key = districtKey(typed);
  const named = index.byName.get(key) ?? [];
  const matches = byCode && !named.includes(byCode) ? [byCode, ...named] : named;
  if (matches.length === 0) {
    const written = WITH_CODE.exec(typed);
    const coded = written ? index.byCode.get(codeKey(written[2]!)) : undefined;
    if (coded && districtKey(coded.name) === districtKey(written![1]!)) return { found: 'one', district: coded };
  }
  if (matches.length === 1) return { found: 'one', district: matches[0]! };
  if (matches.length > 1) return { found: 'several', candidates: matches };
  return { found: 'none', suggestions: key ? startingWith(index, key, suggestions) : [] };
}

/** Names that begin with the key, then names with a later word that does ("etienne": "Saint-Étienne"), in alphabetical order. */
function startingWith<D extends NamedDistrict>(index: DistrictIndex<D>, key: string, limit: number): D[] {
  const { names } = index;
  const keys: string[] = [];
  for (let i = firstAtLeast(names, key); i < names.length && keys.length < limit && names[i]!.startsWith(key); i++) keys.push(names[i]!);
  // Fewer than the limit begin with it: a scan of every name (about a millisecond for 35,000).
  const later = ` ${key}`;
  for (let i = 0; i < names.length && keys.length < limit; i++) if (names[i]!.includes(later)) keys.push(names[i]!);
  return keys.flatMap((k) => index.byName.get(k)!).slice(0, limit);
}

function firstAtLeast(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}
