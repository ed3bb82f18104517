// What the ResNet benches (resnet.mjs, ab.mjs) share: medians, timing after a warm-up, peak RSS.
import { readFileSync } from 'node:fs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Seconds per call of `fn`: one warm-up call, then the median of `reps` timed calls. */
export async function time(fn, reps) {
  await fn();
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

/** This process's peak resident set (VmHWM), in MiB (the current RSS where /proc is missing). */
export function vmHwmMb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.memoryUsage().rss / 2 ** 20;
}
