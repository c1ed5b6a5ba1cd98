/**
 * A jurisdiction's districts by code, made once per district list: the list read for a jurisdiction
 * is kept and shared between requests (initiatives/service), so France's 35,000 communes are mapped
 * once, not on every signature or progress read.
 */
const byCode = new WeakMap<readonly { code: string }[], ReadonlyMap<string, { code: string }>>();

export function districtsByCode<D extends { code: string }>(districts: readonly D[]): ReadonlyMap<string, D> {
  let map = byCode.get(districts);
  if (!map) byCode.set(districts, (map = new Map(districts.map((d) => [d.code, d]))));
  return map as ReadonlyMap<string, D>;
}
