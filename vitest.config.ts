import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/pg/**', 'tests/e2e/**', 'tests/worker/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    globalSetup: ['tests/support/pglite-template.ts'],
  },
});
