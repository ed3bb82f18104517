import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['src/**/*.test.ts', 'src/**/*.test.mjs'], testTimeout: 120_000, hookTimeout: 120_000 },
});
