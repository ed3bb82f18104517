// summary(model): parameter counts per top-level child, to show what freezing did.

import type { Module } from './module.js';
import type { Parameter } from './parameter.js';

/** One line of a summary: a top-level child (or `(self)` for the model's own parameters). */
export interface SummaryRow {
  name: string;
  type: string;
  total: number;
  trainable: number;
  frozen: number;
}

export interface ModelSummary {
  /** The model's class name. */
  model: string;
  rows: SummaryRow[];
  /** Totals over the whole model; a parameter shared by two children is counted once here. */
  total: number;
  trainable: number;
  frozen: number;
  /** The table as text. */
  toString(): string;
}

function count(params: Iterable<Parameter>): { total: number; trainable: number; frozen: number } {
  let total = 0;
  let trainable = 0;
  for (const p of params) {
    const n = p.numel();
    total += n;
    if (p.requiresGrad) trainable += n;
  }
  return { total, trainable, frozen: total - trainable };
}

const thousands = (n: number) => n.toLocaleString('en-US');

/**
 * Total, trainable and frozen parameter counts for each top-level child of `model`, as data and
 * as a printable table (`console.log(String(summary(model)))`).
 */
export function summary(model: Module): ModelSummary {
  const rows: SummaryRow[] = [];
  const own = count(model.parameters(false));
  if (own.total > 0) rows.push({ name: '(self)', type: model._getName(), ...own });
  for (const [name, child] of model.namedChildren())
    rows.push({ name, type: child._getName(), ...count(child.parameters()) });
  const totals = count(model.parameters());
  const table = (): string => {
    const header = ['Name', 'Type', 'Parameters', 'Trainable', 'Frozen'];
    const body = rows.map((r) => [
      r.name,
      r.type,
      thousands(r.total),
      thousands(r.trainable),
      thousands(r.frozen),
    ]);
    const foot = [
      'Total',
      '',
      thousands(totals.total),
      thousands(totals.trainable),
      thousands(totals.frozen),
    ];
    const all = [header, ...body, foot];
    const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
    const line = (r: string[]) =>
      r
        .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd();
    const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
    return [`${model._getName()} summary`, line(header), rule, ...body.map(line), rule, line(foot)].join(
      '\n',
    );
  };
  return { model: model._getName(), rows, ...totals, toString: table };
}
