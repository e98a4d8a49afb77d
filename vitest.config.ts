import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'electron/**/*.test.ts', 'shared/**/*.test.ts'],
    environment: 'node',
    // The Raft simulation runs thousands of seeds in one test.
    testTimeout: 120_000,
    // Only `npm run coverage:raft` turns coverage on; it measures the pure Raft core alone.
    coverage: {
      provider: 'v8',
      include: ['electron/raft/**/*.ts'],
      exclude: ['**/*.test.ts'],
      reporter: ['text', 'text-summary'],
      thresholds: { lines: 90 },
    },
  },
});
