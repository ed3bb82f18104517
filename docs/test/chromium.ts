// Helpers of the browser tests (browser.test.ts, playground-*.test.ts): Debian's chromium driven by
// playwright-core (never a downloaded browser), and the built site served by scripts/serve.mjs, which sends
// no COOP/COEP headers.

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

export const docsDir = fileURLToPath(new URL('..', import.meta.url));
export const dist = join(docsDir, 'dist');
export const shots = join(docsDir, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Root in CI: no sandbox, no GPU process sandbox, nothing that phones home. */
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // WebGPU on SwiftShader's Vulkan: playwright already passes --enable-unsafe-swiftshader.
  '--enable-unsafe-webgpu',
];

/** Chromium's fake webcam (a moving test pattern), granted without a prompt. */
export const FAKE_CAMERA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Throws saying what to do when the built site or chromium is missing. */
export function requireSiteAndChromium(): void {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`no built site at ${dist}: run \`pnpm --filter @graft/docs docs:build\` first`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no chromium at ${CHROMIUM}: install Debian's (\`pnpm test\` runs scripts/setup-system.mjs, which does) ` +
        'or set CHROMIUM_PATH when running vitest directly; playwright-core never downloads a browser',
    );
  }
}

/** Waits until the playground's run ends (Done or Stopped) or shows an error. */
export async function waitForTrainingEnd(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      /^(Done|Stopped)/.test(document.querySelector('[data-test=status]')?.textContent ?? '') ||
      document.querySelector('[data-test=errors]') !== null,
    null,
    { timeout: 240_000, polling: 250 },
  );
}

/** Serves docs/dist and launches chromium; throws saying what to do when either is missing. */
export async function startSiteAndBrowser(
  extraFlags: string[] = [],
): Promise<{ server: Server; base: string; browser: Browser }> {
  requireSiteAndChromium();
  const { server, url } = await serve(dist);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...FLAGS, ...extraFlags],
    timeout: 60_000,
  });
  return { server, base: url, browser };
}

export async function stopSiteAndBrowser(
  site: { server: Server; browser: Browser } | undefined,
): Promise<void> {
  await site?.browser.close();
  await new Promise((resolve) => (site ? site.server.close(resolve) : resolve(undefined)));
}
