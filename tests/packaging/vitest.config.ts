import { defineConfig } from 'vitest/config';

// One file, run in order: packing and installing happen once in beforeAll.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 },
});
