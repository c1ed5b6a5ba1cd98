import { ConfigError, loadConfig } from '../platform/config';
import { openPostgres } from './client';

/** `npm run db:migrate`: applies drizzle/ to DATABASE_URL (Workers never migrate at request time). */
async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL must be set to a postgres:// URL\n');
    process.exit(2);
  }
  try {
    // Checked as the engine checks it, with the same message.
    loadConfig({ DATABASE_URL: url });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const db = await openPostgres(url, { max: 1 });
  await db.close();
  process.stdout.write(`migrations applied to ${new URL(url).host}${new URL(url).pathname}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
