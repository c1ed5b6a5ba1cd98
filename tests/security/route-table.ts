import type { App } from '../../src/app';

/** Every (method, pattern) the app answers, from its own route table (middleware entries excluded). */
export function routeTable(app: App): string[] {
  const keys = new Set<string>();
  for (const r of app.routes) if (r.method !== 'ALL') keys.add(`${r.method} ${r.path}`);
  return [...keys];
}
