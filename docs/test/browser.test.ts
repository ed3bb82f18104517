// The built site in a real browser: Debian's chromium, headless, driven by playwright-core. Serves
// docs/dist on 127.0.0.1, checks every internal link, loads the pages without console errors, trains in
// the playground on CPU and on WebGPU (SwiftShader's software adapter), drops an image on it, and runs the
// guides' browser-only code blocks in its editor. Screenshots go to docs/test-results/.

import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXAMPLES } from '../.vitepress/playground/examples';
import { serve } from '../scripts/serve.mjs';
import {
  CHROMIUM,
  dist,
  docsDir,
  FLAGS,
  requireSiteAndChromium,
  shots,
  waitForTrainingEnd,
} from './chromium';
import { allBlocks } from './markdown-blocks';

let server: Server;
let base: string;
let browser: Browser;
let context: BrowserContext;

/**
 * What went wrong on the watched pages. A request that fails with `net::ERR_ABORTED` is kept aside and
 * judged at the end: it is no failure when a navigation of its page's main frame had started before it
 * failed and committed after it started (VitePress prefetches the pages that links point to, and a `goto`
 * cancels those still loading). Every other failure counts: an HTTP status of 400 or more (404, 500), a
 * refused connection or any other network error, and an abort with no navigation to explain it.
 */
interface Problems {
  lines: string[];
  aborted: { line: string; byNavigation: () => boolean }[];
}

const newProblems = (): Problems => ({ lines: [], aborted: [] });
const problems = newProblems();

function unexplained(p: Problems): string[] {
  return [...p.lines, ...p.aborted.filter((a) => !a.byNavigation()).map((a) => a.line)];
}

/** Orders requests, navigations and failures across pages. */
let eventSeq = 0;

function watch(page: Page, report: Problems = problems): Page {
  page.on('console', (m) => {
    if (m.type() === 'error') report.lines.push(`${page.url()}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => report.lines.push(`${page.url()}: uncaught: ${e.message}`));
  const navigations: { started: number; committed?: number }[] = [];
  const startedAt = new WeakMap<Request, number>();
  page.on('request', (r) => {
    startedAt.set(r, ++eventSeq);
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push({ started: eventSeq });
  });
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) return;
    const pending = navigations.findLast((n) => n.committed === undefined);
    if (pending) pending.committed = ++eventSeq;
  });
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    const line = `${page.url()}: request failed: ${r.url()} ${error}`;
    if (error !== 'net::ERR_ABORTED') {
      report.lines.push(line);
      return;
    }
    const started = startedAt.get(r) ?? 0;
    const failed = ++eventSeq;
    report.aborted.push({
      line,
      byNavigation: () =>
        navigations.some((n) => n.started <= failed && n.committed !== undefined && started < n.committed),
    });
  });
  page.on('response', (r) => {
    if (r.status() >= 400) report.lines.push(`${page.url()}: HTTP ${r.status()} for ${r.url()}`);
  });
  return page;
}

async function newPage(): Promise<Page> {
  return watch(await context.newPage());
}

beforeAll(async () => {
  requireSiteAndChromium();
  mkdirSync(shots, { recursive: true });
  ({ server, url: base } = await serve(dist));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

// ---- links -------------------------------------------------------------------------------------------

/** Fetches a page of the built site over HTTP and lists its internal links and element ids. */
async function scan(path: string): Promise<{ status: number; links: string[]; ids: Set<string> }> {
  const response = await fetch(new URL(path, base));
  if (!response.ok || !(response.headers.get('content-type') ?? '').includes('html')) {
    return { status: response.status, links: [], ids: new Set() };
  }
  const html = await response.text();
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const links = [...html.matchAll(/<a\s[^>]*href="([^"]+)"/g)]
    .map((m) => m[1].replace(/&amp;/g, '&'))
    .filter((href) => !/^(https?:|mailto:|data:|javascript:)/.test(href) || href.startsWith(base));
  return { status: response.status, links, ids };
}

test('every internal link and anchor of the site resolves', async () => {
  const pages = new Map<string, Awaited<ReturnType<typeof scan>>>();
  const queue = ['/'];
  const seen = new Set(queue);
  const broken: string[] = [];
  const references: [string, string][] = [];
  while (queue.length) {
    const path = queue.shift()!;
    const page = await scan(path);
    pages.set(path, page);
    if (page.status !== 200) continue;
    for (const href of page.links) {
      const url = new URL(href, new URL(path, base));
      if (url.origin !== new URL(base).origin) continue;
      references.push([path, url.pathname + url.hash]);
      if (url.pathname.startsWith('/assets/') || /\.(png|json|safetensors|svg|txt)$/.test(url.pathname)) {
        const r = await fetch(url, { method: 'HEAD' });
        if (!r.ok) broken.push(`${path} -> ${url.pathname}: HTTP ${r.status}`);
        continue;
      }
      if (!seen.has(url.pathname)) {
        seen.add(url.pathname);
        queue.push(url.pathname);
      }
    }
  }
  for (const [from, target] of references) {
    const [pathname, hash] = target.split('#');
    const page = pages.get(pathname);
    if (!page) continue;
    if (page.status !== 200) broken.push(`${from} -> ${pathname}: HTTP ${page.status}`);
    else if (hash && !page.ids.has(decodeURIComponent(hash)))
      broken.push(`${from} -> ${target}: no element with that id`);
  }
  expect(broken, broken.join('\n')).toEqual([]);
  // The guides, the playground and hundreds of reference pages.
  expect(pages.size).toBeGreaterThan(100);
}, 120_000);

// ---- pages ---------------------------------------------------------------------------------------------

const GUIDE_PAGES = readFileSync(join(docsDir, '.vitepress', 'config.ts'), 'utf8')
  .match(/\['[^']+', '\/guide\/[a-z-]+'\]|\["[^"]+", '\/guide\/[a-z-]+'\]/g)!
  .map((entry) => entry.match(/'(\/guide\/[a-z-]+)'/)![1]);

test('the home page, every guide and the API index render without console errors', async () => {
  expect(GUIDE_PAGES.length).toBeGreaterThanOrEqual(13);
  const page = await newPage();
  for (const path of ['/', ...GUIDE_PAGES, '/api/', '/api/nn/classes/Module']) {
    await page.goto(new URL(`${path === '/' || path.endsWith('/') ? path : `${path}.html`}`, base).href);
    await page.waitForLoadState('networkidle');
    const title = await page.locator('h1').first().textContent();
    expect(title, path).toBeTruthy();
    if (
      ['/', '/guide/quick-start', '/guide/freezing', '/api/nn/classes/Module', '/guide/performance'].includes(
        path,
      )
    ) {
      const name = path === '/' ? 'home' : path.replace(/^\//, '').replace(/\//g, '-');
      await page.screenshot({
        path: join(shots, `${name}.png`),
        fullPage: path !== '/api/nn/classes/Module',
      });
    }
  }
  await page.close();
}, 120_000);

test('the request watch: aborts by navigation pass; 404, 500, refused and other aborts are reported', async () => {
  const seen = newProblems();
  const page = watch(await context.newPage(), seen);
  // A request left pending, as a prefetch still loading is: the next navigation aborts it.
  await page.route(
    (url) => url.pathname === '/never-answers.js',
    () => undefined,
  );
  await page.route('**/server-error.js', (route) => route.fulfill({ status: 500, body: 'broken' }));
  await page.goto(new URL('/', base).href);
  const pending = page.waitForRequest('**/never-answers.js');
  await page.evaluate(() => {
    void fetch('/never-answers.js').catch(() => undefined);
  });
  await pending;
  await page.goto(new URL('/guide/quick-start.html', base).href);
  await page.locator('h1').first().waitFor();
  // Ours, and often VitePress's prefetches of the pages the home page links to. Polled rather than after
  // 'networkidle': in one fresh-clone CI run the page never went idle within 30 s (it does in 2-3 s
  // alone), and the abort is what this test is about.
  await expect
    .poll(() => seen.aborted.map((a) => a.line), { timeout: 15_000 })
    .toContainEqual(expect.stringMatching(/never-answers\.js net::ERR_ABORTED$/));
  expect(unexplained(seen)).toEqual([]);

  // A port nothing listens on.
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  await page.evaluate(async (refused) => {
    const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
    await quiet(fetch('/no-such-file.js'));
    await quiet(fetch('/server-error.js'));
    await quiet(fetch(refused));
    const controller = new AbortController();
    const aborted = quiet(fetch('/never-answers.js?aborted-by-page', { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await aborted;
  }, `http://127.0.0.1:${closed}/`);
  await expect.poll(() => unexplained(seen).filter((l) => !l.includes('console error')).length).toBe(4);
  const found = unexplained(seen).filter((l) => !l.includes('console error'));
  expect(found).toEqual([
    expect.stringMatching(/HTTP 404 for .*\/no-such-file\.js$/),
    expect.stringMatching(/HTTP 500 for .*\/server-error\.js$/),
    expect.stringMatching(/request failed: http:\/\/127\.0\.0\.1:\d+\/ net::ERR_CONNECTION_REFUSED$/),
    expect.stringMatching(/never-answers\.js\?aborted-by-page net::ERR_ABORTED$/),
  ]);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.close();
}, 120_000);

// ---- playground ----------------------------------------------------------------------------------------

async function openPlayground(): Promise<Page> {
  const page = await newPage();
  await page.goto(new URL('playground.html', base).href);
  await page.waitForSelector('[data-test=metrics][data-state=ready]', { timeout: 60_000 });
  return page;
}

interface Metrics {
  state: string;
  step: number;
  firstLoss: number;
  loss: number;
  accuracy: number;
  device: string;
}

async function metrics(page: Page): Promise<Metrics> {
  const d = await page.locator('[data-test=metrics]').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  return {
    state: String(d.state),
    step: Number(d.step),
    firstLoss: Number(d.firstLoss),
    loss: Number(d.loss),
    accuracy: Number(d.accuracy),
    device: String(d.device),
  };
}

/** Non-background pixels on the chart's canvas: a drawn chart has thousands. */
async function inkedPixels(page: Page): Promise<number> {
  return page.locator('[data-test=chart]').evaluate((canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

async function trainRun(
  page: Page,
  backend: 'cpu' | 'webgpu',
  recipe: string,
  steps: number,
): Promise<Metrics> {
  await page.selectOption('[data-test=backend]', backend);
  await page.check(`[data-test=recipe-${recipe}]`);
  await page.fill('[data-test=steps]', String(steps));
  await page.click('[data-test=train]');
  await waitForTrainingEnd(page);
  const errors = await page.locator('[data-test=errors]').count();
  if (errors)
    throw new Error(`the playground reported: ${await page.locator('[data-test=errors]').textContent()}`);
  return metrics(page);
}

describe('playground', () => {
  let page: Page;
  beforeAll(async () => {
    page = await openPlayground();
  }, 120_000);
  afterAll(async () => page?.close());

  test('shows the shipped images, and the chart is empty before training', async () => {
    expect(await page.locator('.pg-class-images img').count()).toBeGreaterThanOrEqual(30);
    expect(await page.locator('.pg-class figcaption').allTextContents()).toEqual([
      'Ankle boot',
      'Bag',
      'Sandal',
      'Shirt',
      'Sneaker',
    ]);
  });

  test('fine-tunes on the CPU backend: the loss falls and the chart draws', async () => {
    const before = await inkedPixels(page);
    const m = await trainRun(page, 'cpu', 'frozen', 8);
    expect(m.device).toMatch(/CPU/);
    expect(m.step).toBe(8);
    expect(m.loss).toBeLessThan(m.firstLoss * 0.95);
    expect(m.accuracy).toBeGreaterThan(0.3);
    expect(await inkedPixels(page)).toBeGreaterThan(before + 500);
    await page.screenshot({ path: join(shots, 'playground-cpu.png'), fullPage: true });
  }, 240_000);

  test('fine-tunes on the WebGPU backend (software adapter): same curve, on the GPU', async () => {
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu ? (await gpu.requestAdapter()) !== null : false;
    });
    expect(adapter, 'chromium offers no WebGPU adapter with --enable-unsafe-webgpu').toBe(true);
    const m = await trainRun(page, 'webgpu', 'groups', 4);
    expect(m.device).toMatch(/WebGPU/);
    expect(m.step).toBe(4);
    expect(m.loss).toBeLessThan(m.firstLoss);
    await page
      .locator('section[aria-label="Training curves"]')
      .screenshot({ path: join(shots, 'playground-webgpu-chart.png') });
  }, 300_000);

  test('classifies a dropped image and can train on it', async () => {
    // A "photo": a dark shoe-like shape on a light background, made by the page's own canvas.
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(120, 80);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#f4f4f4';
      ctx.fillRect(0, 0, 120, 80);
      ctx.fillStyle = '#222';
      ctx.beginPath();
      ctx.moveTo(10, 60);
      ctx.lineTo(110, 60);
      ctx.lineTo(110, 45);
      ctx.lineTo(60, 30);
      ctx.lineTo(40, 15);
      ctx.lineTo(10, 25);
      ctx.closePath();
      ctx.fill();
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'my-shoe.png', { type: 'image/png' }));
      const zone = document.querySelector('[data-test=dropzone]')!;
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    const prediction = page.locator('[data-test=dropped] [data-test=prediction]');
    await expect
      .poll(async () => prediction.textContent(), { timeout: 30_000 })
      .toMatch(/^(Ankle boot|Bag|Sandal|Shirt|Sneaker) \d+%$/);
    // Label it and train once more with it in the training set.
    await page.selectOption('[data-test=dropped] select', { label: 'train as Sneaker' });
    const m = await trainRun(page, 'cpu', 'frozen', 2);
    expect(m.step).toBe(2);
    await page
      .locator('section[aria-label="Your images"]')
      .screenshot({ path: join(shots, 'playground-dropped.png') });
  }, 120_000);
});

// ---- the editor -------------------------------------------------------------------------------------------

async function runInEditor(page: Page, code: string): Promise<{ state: string; output: string }> {
  await page.fill('[data-test=editor]', code);
  await page.click('[data-test=run]');
  await page.waitForFunction(
    () =>
      ['done', 'error'].includes(
        (document.querySelector('[data-test=output]') as HTMLElement).dataset.state ?? '',
      ),
    null,
    { timeout: 120_000, polling: 200 },
  );
  const output = page.locator('[data-test=output]');
  return {
    state: String(await output.getAttribute('data-state')),
    output: (await output.textContent()) ?? '',
  };
}

describe('editor', () => {
  let page: Page;
  beforeAll(async () => {
    page = await openPlayground();
  }, 120_000);
  afterAll(async () => page?.close());

  for (const example of EXAMPLES) {
    test(`runs the example "${example.title}"`, async () => {
      const r = await runInEditor(page, example.code);
      expect(r.state, r.output).toBe('done');
      expect(r.output).toMatch(/finished in/);
    }, 120_000);
  }

  const browserBlocks = allBlocks(docsDir).filter((b) => b.mode === 'browser');
  test('the guides have browser-only code blocks, and they run here', () => {
    expect(browserBlocks.length).toBeGreaterThan(0);
  });
  for (const block of browserBlocks) {
    test(`runs the browser block ${block.page}:${block.line}`, async () => {
      const r = await runInEditor(page, block.code);
      expect(r.state, r.output).toBe('done');
    }, 120_000);
  }

  test('shows errors in the page, and Stop ends an endless loop', async () => {
    const r = await runInEditor(
      page,
      "import { tensor } from '@graft/tensor';\ntensor([1, 2]).reshape(3);\n",
    );
    expect(r.state).toBe('error');
    expect(r.output).toMatch(/reshape|shape/i);
    await expect.poll(() => page.locator('[data-test=errors]').textContent()).toMatch(/editor:/);
    await page.locator('[data-test=errors] button').click();

    await page.fill('[data-test=editor]', "console.log('spinning');\nfor (;;) {}\n");
    await page.click('[data-test=run]');
    await expect
      .poll(() => page.locator('[data-test=output]').textContent(), { timeout: 20_000 })
      .toMatch(/spinning/);
    await page.click('[data-test=stop-code]');
    await expect.poll(() => page.locator('[data-test=output]').getAttribute('data-state')).toBe('stopped');
    // The editor works again after a stop.
    const again = await runInEditor(page, "console.log('still here');\n");
    expect(again.output).toMatch(/still here/);
    await page
      .locator('section[aria-label="Code editor"]')
      .screenshot({ path: join(shots, 'playground-editor.png') });
  }, 120_000);
});

test('no console errors, failed requests or uncaught exceptions on any page', () => {
  const found = unexplained(problems);
  expect(found, found.join('\n')).toEqual([]);
});
