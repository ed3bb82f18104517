// The epoch chart: kept parsed per title and fed each call's rows (a named data source), it must draw
// exactly what the same spec compiled afresh with the rows inline draws.
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { EpochMetrics } from './metrics.js';
import { plotSpec, plotValues, renderPlot } from './plot.js';

/** The chart compiled from scratch with the rows inline (what renderPlot drew before it kept charts). */
async function fresh(rows: EpochMetrics[], title: string): Promise<string> {
  const spec = plotSpec(title, { values: plotValues(rows) });
  return new View(parse(compile(spec).spec), { renderer: 'none' }).toSVG();
}

describe('renderPlot', () => {
  it('draws what a freshly compiled chart draws, epoch after epoch and for two titles in turn', async () => {
    const rows: EpochMetrics[] = [];
    for (let epoch = 1; epoch <= 4; epoch++) {
      rows.push({
        epoch,
        trainLoss: 2 / epoch,
        valLoss: 2.5 / epoch,
        trainAccuracy: 0.4 + epoch / 10,
        valAccuracy: 0.35 + epoch / 10,
        lr: [0.01],
        seconds: 1,
        imagesPerSecond: 100,
      });
      for (const title of ['resnet18 pretrained', 'resnet18 scratch']) {
        const svg = await renderPlot(rows, title);
        expect(svg).toBe(await fresh(rows, title));
        expect(svg).toContain(title);
      }
    }
  });
});
