import { defineConfig } from 'vitest/config';

// One test file at a time: both the snippets and the browser test keep the CPU busy.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
