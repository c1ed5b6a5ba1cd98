import { defineConfig } from 'vitest/config';

// `npm run test:worker`: suites against the engine running in workerd under `wrangler dev`, on PostgreSQL.
export default defineConfig({
  test: {
    include: ['tests/worker/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 150_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
