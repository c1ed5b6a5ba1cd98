import { defineConfig } from 'vitest/config';

// The same suites as `npm test`, on a real PostgreSQL server, plus the ones that need one (tests/pg).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'tests/worker/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
