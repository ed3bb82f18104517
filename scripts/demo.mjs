// The README's main job until the CLI lands: train a small network with graft's engine and print the loss falling.
import { crossEntropy, manualSeed, randn, tensor, noGrad, zeros } from '@graft/tensor';

manualSeed(0);
// Two interleaved spirals, 3 classes: a problem a linear model cannot solve.
const perClass = 60;
const points = [];
const labels = [];
for (let c = 0; c < 3; c++) {
  for (let i = 0; i < perClass; i++) {
    const r = i / perClass;
    const t = c * 4 + 4 * r + 0.2 * Math.sin(i * 12.9898);
    points.push([r * Math.sin(t), r * Math.cos(t)]);
    labels.push(c);
  }
}
const x = tensor(points, { dtype: 'float32' });
const y = tensor(labels);

const hidden = 64;
const w1 = randn(2, hidden).mul(Math.sqrt(2 / 2)).requiresGrad_();
const b1 = zeros(hidden, { requiresGrad: true });
const w2 = randn(hidden, 3).mul(Math.sqrt(1 / hidden)).requiresGrad_();
const b2 = zeros(3, { requiresGrad: true });
const params = [w1, b1, w2, b2];

const lr = 0.5;
console.log('graft demo: a 2-64-3 MLP on three spirals (180 points), full-batch gradient descent');
for (let step = 0; step <= 400; step++) {
  const logits = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
  const loss = crossEntropy(logits, y);
  for (const p of params) p.grad = null;
  loss.backward();
  noGrad(() => {
    for (const p of params) p.sub_(p.grad.mul(lr));
  });
  if (step % 50 === 0) {
    const acc = noGrad(() => logits.argmax(1).eq(y).float().mean().itemSync());
    console.log(`step ${String(step).padStart(3)}  loss ${loss.itemSync().toFixed(4)}  accuracy ${(acc * 100).toFixed(1)}%`);
  }
}
