// The per-epoch loss/accuracy chart written to OUT/plot.svg, rendered headless with vega-lite.

import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { EpochMetrics } from './metrics.js';

/** Renders train/validation loss and accuracy per epoch as an SVG document. */
export async function renderPlot(rows: readonly EpochMetrics[], title: string): Promise<string> {
  const values = rows.flatMap((r) => [
    { epoch: r.epoch, split: 'train', metric: 'loss', value: r.trainLoss },
    { epoch: r.epoch, split: 'validation', metric: 'loss', value: r.valLoss },
    { epoch: r.epoch, split: 'train', metric: 'accuracy', value: r.trainAccuracy },
    { epoch: r.epoch, split: 'validation', metric: 'accuracy', value: r.valAccuracy },
  ]);
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
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    background: 'white',
    data: { values },
    hconcat: [panel('loss'), panel('accuracy')],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
