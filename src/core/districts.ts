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

/** A district's settings other than its code, as a change records them. */
type DistrictFields<D> = Partial<Omit<D, 'code'>>;

/**
 * What a new district list changes from the old one, by code: the districts added and removed
 * (whole), and for each kept one whose settings differ, those settings before and after. Bounded by
 * the districts that differ, not by the list (a jurisdiction of France's 35,000 communes renaming
 * one records one), so that an audit entry keeps every figure replaced without copying the lists.
 * `reordered` says that the districts kept are listed in another order.
 */
export function districtChanges<D extends { code: string }>(before: readonly D[], after: readonly D[]) {
  const old = new Map(before.map((d) => [d.code, d]));
  const kept = new Set(after.map((d) => d.code));
  const added: D[] = [];
  const changed: { code: string; before: DistrictFields<D>; after: DistrictFields<D> }[] = [];
  for (const district of after) {
    const previous = old.get(district.code);
    if (!previous) {
      added.push(district);
      continue;
    }
    // A district's settings are a name and figures: compared as values.
    const fields = [...new Set([...Object.keys(previous), ...Object.keys(district)])].filter((k) => k !== 'code' && previous[k as keyof D] !== district[k as keyof D]) as (keyof D)[];
    if (fields.length === 0) continue;
    changed.push({
      code: district.code,
      before: Object.fromEntries(fields.map((k) => [k, previous[k]])) as DistrictFields<D>,
      after: Object.fromEntries(fields.map((k) => [k, district[k]])) as DistrictFields<D>,
    });
  }
  const removed = before.filter((d) => !kept.has(d.code));
  const keptBefore = before.filter((d) => kept.has(d.code));
  const keptAfter = after.filter((d) => old.has(d.code));
  const reordered = keptBefore.some((d, i) => d.code !== keptAfter[i]!.code);
  return { added, removed, changed, reordered };
}
