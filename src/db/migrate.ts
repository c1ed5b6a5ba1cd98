import { openPostgres } from './client';

/** `npm run db:migrate`: applies drizzle/ to DATABASE_URL (Workers never migrate at request time). */
async function main() {
  const url = process.env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    process.stderr.write('DATABASE_URL must be set to a postgres:// URL\n');
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
