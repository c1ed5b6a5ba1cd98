import { defineConfig } from 'vitest/config';

// Browser tests: the real engine as a child process, driven through Debian's Chromium (playwright-core).
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
