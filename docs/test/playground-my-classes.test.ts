// Your own classes in the playground, in headless chromium with its fake webcam: a class filled from the
// webcam (a held Record button records a burst), one from chosen image files, fine-tune, the live
// prediction on the webcam frame, and the two downloads, which graft then reads back in Node.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOrderedDict, loadBytes, readSafetensors, type StateDict } from '@graft/serialize';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SmallNet } from '../.vitepress/playground/small-net';
import {
  FAKE_CAMERA_FLAGS,
  shots,
  startSiteAndBrowser,
  stopSiteAndBrowser,
  waitForTrainingEnd,
} from './chromium';

let site: Awaited<ReturnType<typeof startSiteAndBrowser>> | undefined;
let page: Page;
const problems: string[] = [];
const CLASSES = ['webcam', 'drawn'];

beforeAll(async () => {
  site = await startSiteAndBrowser(FAKE_CAMERA_FLAGS);
  const context = await site.browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  await context.grantPermissions(['camera']);
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.goto(new URL('playground.html', site.base).href);
  await page.waitForSelector('[data-test=metrics][data-state=ready]', { timeout: 90_000 });
}, 180_000);

afterAll(async () => stopSiteAndBrowser(site));

const classCard = (name: string) => page.locator(`[data-test=my-class][data-name="${name}"]`);
const sampleCount = async (name: string) => Number(await classCard(name).getAttribute('data-count'));

/** Shows the playground's errors, then clears them. */
async function takeErrors(): Promise<string> {
  const box = page.locator('[data-test=errors]');
  if ((await box.count()) === 0) return '';
  const text = (await box.locator('ul').textContent()) ?? '';
  await box.locator('button').click();
  return text;
}

test('adds named classes, and refuses an empty or repeated name naming what it expected', async () => {
  for (const name of CLASSES) {
    await page.fill('[data-test=class-name]', name);
    await page.click('[data-test=add-class]');
  }
  expect(
    await page
      .locator('[data-test=my-class]')
      .evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.name)),
  ).toEqual(CLASSES);
  await page.fill('[data-test=class-name]', 'webcam');
  await page.click('[data-test=add-class]');
  expect(await takeErrors()).toBe('class name: expected a new name, got "webcam" (already a class)');
  await page.fill('[data-test=class-name]', '   ');
  await page.click('[data-test=add-class]');
  expect(await takeErrors()).toBe('class name: expected a name, got an empty one');
  expect(await page.locator('[data-test=my-class]').count()).toBe(2);
  expect(await page.locator('[data-test=train-mine]').isDisabled()).toBe(true);
});

test('holding Record captures a burst of webcam frames; a click captures one', async () => {
  await page.click('[data-test=camera-start]');
  await page.waitForSelector('[data-test=camera-stop]', { timeout: 30_000 });
  const record = classCard('webcam').locator('[data-test=record]');
  await record.hover();
  await page.mouse.down();
  await page.waitForTimeout(1500);
  await page.mouse.up();
  const burst = await sampleCount('webcam');
  // 100 ms between frames: about 15 in 1.5 s (fewer on a busy machine), and it stops on release.
  expect(burst).toBeGreaterThanOrEqual(5);
  expect(burst).toBeLessThanOrEqual(17);
  await page.waitForTimeout(400);
  expect(await sampleCount('webcam')).toBe(burst);
  await record.click();
  expect(await sampleCount('webcam')).toBe(burst + 1);
  // Each frame is what the network reads: a 28x28 preview.
  const sizes = await classCard('webcam')
    .locator('img')
    .evaluateAll((imgs) =>
      imgs.map((i) => `${(i as HTMLImageElement).naturalWidth}x${(i as HTMLImageElement).naturalHeight}`),
    );
  expect(new Set(sizes)).toEqual(new Set(['28x28']));
});

test('fills a class from chosen and dropped image files, and names a file that is not an image', async () => {
  // Dark strokes on a light background, like a photo of a drawing: 12 of them, each a little different.
  const pngs = await page.evaluate(async () => {
    const out: string[] = [];
    for (let i = 0; i < 12; i++) {
      const canvas = new OffscreenCanvas(96, 96);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#f8f8f8';
      ctx.fillRect(0, 0, 96, 96);
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 10 + (i % 3) * 2;
      ctx.beginPath();
      ctx.moveTo(15 + i, 15);
      ctx.lineTo(80, 80 - i);
      ctx.moveTo(80 - i, 15);
      ctx.lineTo(15, 80);
      ctx.stroke();
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      out.push(btoa(String.fromCharCode(...bytes)));
    }
    return out;
  });
  const input = classCard('drawn').locator('[data-test=class-files]');
  await input.setInputFiles([
    ...pngs.map((b64, i) => ({
      name: `cross-${i}.png`,
      mimeType: 'image/png',
      buffer: Buffer.from(b64, 'base64'),
    })),
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
  ]);
  await expect.poll(() => sampleCount('drawn')).toBe(12);
  expect(await takeErrors()).toBe('notes.txt: expected an image file, got text/plain');
  // A file dropped on the class's card joins it too.
  await classCard('drawn').evaluate(async (card, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    card.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, pngs[0]);
  await expect.poll(() => sampleCount('drawn')).toBe(13);
});

test('fine-tunes on the two classes, predicts the webcam frame live, and offers both downloads', async () => {
  await page.selectOption('[data-test=backend]', 'cpu');
  await page.check('[data-test=recipe-groups]');
  await page.fill('[data-test=steps]', '12');
  await page.click('[data-test=train-mine]');
  await waitForTrainingEnd(page);
  expect(await takeErrors()).toBe('');
  const m = await page.locator('[data-test=metrics]').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  expect(Number(m.step)).toBe(12);
  expect(Number(m.loss)).toBeLessThan(Number(m.firstLoss));
  // The webcam shows the webcam class's kind of picture, never the drawn crosses.
  const live = page.locator('[data-test=live]');
  await expect.poll(() => live.getAttribute('data-label'), { timeout: 30_000 }).toBe('webcam');
  expect(await live.locator('.pg-bar-name').allTextContents()).toEqual(CLASSES);
  await page.waitForSelector('[data-test=downloads]', { timeout: 30_000 });
  await page
    .locator('section[aria-label="Your own classes"]')
    .screenshot({ path: join(shots, 'playground-my-classes.png') });
});

async function download(testId: string): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(`[data-test=${testId}]`)]);
  const path = await file.path();
  const bytes = new Uint8Array(readFileSync(path));
  // Kept for docs/scripts/my-classes-pth.py --verify, which reads them with PyTorch.
  writeFileSync(join(shots, file.suggestedFilename()), bytes);
  return bytes;
}

/** Keys, shapes and dtypes of a state dict, in order (`sorted`: by key, since safetensors keeps its own order). */
const layout = (sd: StateDict, sorted = false) =>
  Object.entries(sd)
    .sort(([a], [b]) => (sorted ? a.localeCompare(b) : 0))
    .map(([k, t]) => [k, [...t.shape], t.dtype]);

test('the downloads load in graft: the network of two classes, and the class names', async () => {
  const net = new SmallNet(CLASSES.length).stateDict();
  const reference = layout(net);
  expect(reference.find(([k]) => k === 'fc.weight')).toEqual(['fc.weight', [2, 64], 'float32']);

  const st = readSafetensors(await download('download-safetensors'));
  expect(layout(st.tensors, true)).toEqual(layout(net, true));
  expect(JSON.parse(st.metadata.classes)).toEqual(CLASSES);
  expect(st.metadata.format).toBe('pt');

  const pth = loadBytes(await download('download-pth')) as { state_dict: StateDict; classes: string[] };
  expect(Object.keys(pth).sort()).toEqual(['classes', 'input', 'state_dict']);
  expect(pth.classes).toEqual(CLASSES);
  expect(isOrderedDict(pth.state_dict)).toBe(true);
  expect(layout(pth.state_dict)).toEqual(reference);
  // One model in two files: the same numbers.
  for (const [key, t] of Object.entries(pth.state_dict)) {
    expect(await t.tolist(), key).toEqual(await st.tensors[key].tolist());
  }
  // And it runs: a strict load into the playground's network.
  const model = new SmallNet(CLASSES.length);
  model.loadStateDict(pth.state_dict);
  expect(problems, problems.join('\n')).toEqual([]);
});
