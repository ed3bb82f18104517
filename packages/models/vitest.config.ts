import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const checkpointSourceForNode = fileURLToPath(new URL('./src/checkpoint-source/node.ts', import.meta.url));

// Tests run in Node, so '#checkpoint-source' is the Node implementation: read from source for the
// TypeScript tests (which import src/), left to the package's own imports map for dist/ (which the
// plain .mjs tests reach through '@graft/models'), so each side sees one copy of every module.
export default defineConfig({
  plugins: [
    {
      name: 'checkpoint-source-from-src',
      enforce: 'pre',
      resolveId(id, importer) {
        if (id !== '#checkpoint-source' || importer?.includes('/dist/')) return null;
        return checkpointSourceForNode;
      },
    },
  ],
  test: { include: ['src/**/*.test.ts', 'src/**/*.test.mjs'], pool: 'threads', testTimeout: 60_000 },
});
