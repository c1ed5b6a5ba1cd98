import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client';

/** Rows of a raw query, whichever driver ran it (postgres.js returns an array, PGlite an object with rows). */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Every value of every text-like column (text, varchar, json, jsonb, bytea as escaped text) of
 * every table of the public schema, with where it was found: what someone with a copy of the
 * database would read.
 */
export async function everyStoredText(db: Database): Promise<{ where: string; text: string }[]> {
  const columns = rowsOf<{ table_name: string; column_name: string; data_type: string }>(
    await db.execute(sql`
      select c.table_name, c.column_name, c.data_type
      from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = 'public' and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY')`),
  );
  const out: { where: string; text: string }[] = [];
  for (const column of columns) {
    const value = column.data_type === 'bytea' ? sql`encode(${sql.identifier(column.column_name)}, 'escape')` : sql`${sql.identifier(column.column_name)}::text`;
    const result = await db.execute(sql`select ${value} as v from ${sql.identifier(column.table_name)}`);
    for (const { v } of rowsOf<{ v: string | null }>(result)) if (v) out.push({ where: `${column.table_name}.${column.column_name}`, text: v });
  }
  return out;
}

/** The ways a person's name and birth date could appear in clear: as given, upper-cased, without accents, dates in both orders. */
export function needlesFor(people: { givenNames: string; familyName: string; birthdate: string }[]): string[] {
  const plain = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '');
  const needles = new Set<string>();
  for (const p of people) {
    for (const name of [p.familyName, ...p.givenNames.split(/[\s-]+/)]) {
      if (name.length < 3) continue;
      needles.add(name.toLowerCase());
      needles.add(plain(name).toLowerCase());
    }
    needles.add(p.birthdate);
    needles.add(p.birthdate.split('-').reverse().join('/'));
    needles.add(p.birthdate.replaceAll('-', ''));
  }
  return [...needles];
}

/** Which needles occur (case-insensitively) in which texts. */
export function findNeedles(texts: { where: string; text: string }[], needles: string[]): string[] {
  const found: string[] = [];
  for (const { where, text } of texts) {
    const folded = text.toLowerCase();
    for (const needle of needles) if (folded.includes(needle.toLowerCase())) found.push(`${where}: ${needle}`);
  }
  return found;
}
