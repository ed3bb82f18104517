// The VitePress site: guides, the generated API reference (docs/api, from scripts/api.mjs) and the playground.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DefaultTheme, defineConfig } from 'vitepress';

const docsDir = fileURLToPath(new URL('..', import.meta.url));

export const GUIDES: [string, string][] = [
  ['Quick start', '/guide/quick-start'],
  ['TypeScript', '/guide/typescript'],
  ['Transfer learning two ways', '/guide/transfer-learning'],
  ['Initialising a new head', '/guide/initialising-a-head'],
  ['Freezing layers', '/guide/freezing'],
  ['Parameter groups', '/guide/parameter-groups'],
  ['The Optimizer API', '/guide/optimizer'],
  ['Learning-rate schedules', '/guide/lr-schedules'],
  ['Saving and loading', '/guide/saving-and-loading'],
  ["torchvision's pretrained weights", '/guide/pretrained-weights'],
  ['WebGPU', '/guide/webgpu'],
  ['The command line', '/guide/cli'],
  ['Performance', '/guide/performance'],
  ['Porting from PyTorch', '/guide/porting-from-pytorch'],
  ['Op reference', '/guide/ops'],
];

/** The reference's sidebar, read from the pages TypeDoc wrote (one group per package entry). */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const root = join(docsDir, 'api');
  if (!existsSync(join(root, 'index.md'))) return [];
  const order = ['tensor', 'nn', 'optim', 'models', 'data', 'serialize'];
  const rank = (name: string) => order.indexOf(name.split('/')[1]) * 2 + (name.endsWith('/node') ? 1 : 0);
  const entries = [
    ...readFileSync(join(root, 'index.md'), 'utf8').matchAll(/- \[(@graft\/[^\]]+)\]\(([^)]+)\/index\.md\)/g),
  ];
  entries.sort((a, b) => rank(a[1]) - rank(b[1]));
  return entries.map(([, name, dir]) => {
    const items: DefaultTheme.SidebarItem[] = [];
    for (const kind of ['classes', 'functions', 'interfaces', 'type-aliases', 'variables', 'namespaces']) {
      const folder = join(root, dir, kind);
      if (!existsSync(folder)) continue;
      const pages = readdirSync(folder, { withFileTypes: true })
        .map((d) => d.name.replace(/\.md$/, ''))
        .sort((a, b) => a.localeCompare(b));
      const link = (page: string) => `/api/${dir}/${kind}/${page}${kind === 'namespaces' ? '/' : ''}`;
      items.push({
        text: kind.replace('-', ' '),
        collapsed: true,
        items: pages.map((page) => ({ text: page, link: link(page) })),
      });
    }
    return { text: name, link: `/api/${dir}/`, collapsed: true, items };
  });
}

export default defineConfig({
  title: 'graft',
  description: 'PyTorch-style transfer learning in TypeScript, in Node and the browser, on CPU and WebGPU',
  base: process.env.DOCS_BASE ?? '/',
  outDir: 'dist',
  cacheDir: 'node_modules/.cache/vitepress',
  srcExclude: ['README.md', 'test-results/**', 'scripts/**', 'test/**', 'public/**'],
  cleanUrls: false,
  lastUpdated: false,
  head: [['link', { rel: 'icon', href: 'data:,' }]],
  markdown: { theme: { light: 'github-light', dark: 'github-dark' } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/quick-start' },
      { text: 'Playground', link: '/playground' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/guide/': [
        { text: 'Guide', items: GUIDES.map(([text, link]) => ({ text, link })) },
        { text: 'Playground', link: '/playground' },
      ],
      '/api/': [{ text: 'API reference', link: '/api/' }, ...apiSidebar()],
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: {
      message: 'MIT licensed. Built from docs/ with VitePress; the reference from TSDoc with TypeDoc.',
    },
  },
  vite: {
    // graft prints modules by class name (PyTorch's reprs): keep names through minification.
    esbuild: { keepNames: true },
    worker: { format: 'es' },
    // Found only when a worker starts; listed so the dev server does not reload the page to add them.
    optimizeDeps: { include: ['chart.js', 'sucrase', '@graft/serialize > fflate', '@graft/data > fflate'] },
    build: { chunkSizeWarningLimit: 2000 },
  },
});
