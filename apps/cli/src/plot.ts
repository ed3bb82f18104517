// The per-epoch loss/accuracy chart written to OUT/plot.svg, rendered headless with vega-lite.

import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { EpochMetrics } from './metrics.js';

/** The rows of the chart: one value per epoch, split (train/validation) and metric. */
export function plotValues(rows: readonly EpochMetrics[]) {
  return rows.flatMap((r) => [
    { epoch: r.epoch, split: 'train', metric: 'loss', value: r.trainLoss },
    { epoch: r.epoch, split: 'validation', metric: 'loss', value: r.valLoss },
    { epoch: r.epoch, split: 'train', metric: 'accuracy', value: r.trainAccuracy },
    { epoch: r.epoch, split: 'validation', metric: 'accuracy', value: r.valAccuracy },
  ]);
}

/** The vega-lite spec: loss and accuracy panels; `data` is inline values or a named source. */
export function plotSpec(title: string, data: { values: unknown[] } | { name: string }) {
  const panel = (metric: string) => ({
    width: 320,
    height: 220,
    title: metric,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: false } },
      color: { field: 'split', type: 'nominal' as const },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    background: 'white',
    data,
    hconcat: [panel('loss'), panel('accuracy')],
  };
}

/** vega's parsed chart for a title: compiling and parsing cost more than drawing, so it is kept. */
const charts = new Map<string, ReturnType<typeof parse>>();

/** Renders train/validation loss and accuracy per epoch as an SVG document. */
export async function renderPlot(rows: readonly EpochMetrics[], title: string): Promise<string> {
  let chart = charts.get(title);
  if (!chart) {
    chart = parse(compile(plotSpec(title, { name: 'rows' })).spec);
    charts.set(title, chart);
  }
  return new View(chart, { renderer: 'none' }).insert('rows', plotValues(rows)).toSVG();
}
