// Writes docs/guide/ops.md, the op reference, from the built op definitions (run after a build):
//   node packages/tensor/scripts/op-reference.mjs
import { writeFileSync } from 'node:fs';
import { opReferenceMarkdown } from '../dist/ops/reference.js';

const target = new URL('../../../docs/guide/ops.md', import.meta.url);
writeFileSync(target, opReferenceMarkdown());
console.log(`wrote ${target.pathname}`);
