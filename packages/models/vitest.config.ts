import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run in Node, so '#checkpoint-source' is the Node implementation, read from source.
export default defineConfig({
  resolve: {
    alias: {
      '#checkpoint-source': fileURLToPath(new URL('./src/checkpoint-source/node.ts', import.meta.url)),
    },
  },
  test: { include: ['src/**/*.test.ts'], pool: 'threads', testTimeout: 60_000 },
});
