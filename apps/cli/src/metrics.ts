// Per-epoch metrics and the classification report (accuracy, per-class precision/recall, confusion).

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  lr: number[];
  seconds: number;
  imagesPerSecond: number;
}

export interface ClassificationReport {
  accuracy: number;
  loss: number;
  perClass: { name: string; precision: number; recall: number; support: number }[];
  /** confusion[true][predicted] */
  confusion: number[][];
}

export function classificationReport(
  truth: readonly number[],
  predicted: readonly number[],
  classes: readonly string[],
  loss: number,
): ClassificationReport {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
  });
  const correct = truth.reduce((s, t, i) => s + (t === predicted[i] ? 1 : 0), 0);
  const perClass = classes.map((name, c) => {
    const tp = confusion[c][c];
    const predictedC = confusion.reduce((s, row) => s + row[c], 0);
    const support = confusion[c].reduce((s, v) => s + v, 0);
    return { name, precision: predictedC ? tp / predictedC : 0, recall: support ? tp / support : 0, support };
  });
  return { accuracy: truth.length ? correct / truth.length : 0, loss, perClass, confusion };
}

export function formatReport(r: ClassificationReport): string {
  const width = Math.max(8, ...r.perClass.map((c) => c.name.length));
  const lines = [
    `accuracy ${(100 * r.accuracy).toFixed(2)}%  loss ${r.loss.toFixed(4)}`,
    '',
    `${'class'.padEnd(width)}  precision  recall  support`,
    ...r.perClass.map(
      (c) =>
        `${c.name.padEnd(width)}  ${(100 * c.precision).toFixed(1).padStart(8)}%  ${(100 * c.recall).toFixed(1).padStart(5)}%  ${String(c.support).padStart(7)}`,
    ),
    '',
    'confusion matrix (rows: true class, columns: predicted)',
    ...r.confusion.map(
      (row, i) => `${r.perClass[i].name.padEnd(width)}  ${row.map((v) => String(v).padStart(5)).join(' ')}`,
    ),
  ];
  return lines.join('\n');
}

export function metricsCsv(rows: readonly EpochMetrics[]): string {
  const groups = Math.max(0, ...rows.map((r) => r.lr.length));
  const header = [
    'epoch',
    'train_loss',
    'train_accuracy',
    'val_loss',
    'val_accuracy',
    ...Array.from({ length: groups }, (_, i) => `lr_group${i}`),
    'seconds',
    'images_per_second',
  ];
  const body = rows.map((r) =>
    [
      r.epoch,
      r.trainLoss,
      r.trainAccuracy,
      r.valLoss,
      r.valAccuracy,
      ...r.lr,
      r.seconds,
      r.imagesPerSecond,
    ].join(','),
  );
  return `${[header.join(','), ...body].join('\n')}\n`;
}
