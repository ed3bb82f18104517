// A one-line download progress bar on stderr, drawn only when stderr is a terminal.
import type { DownloadProgress } from '../checkpoint-source/types.js';

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Renders one progress line: name, bar (when the size is known), bytes and speed. */
export function formatProgressLine(progress: DownloadProgress, elapsedSeconds: number, width = 30): string {
  const { fileName, receivedBytes, totalBytes } = progress;
  const speed = elapsedSeconds > 0 ? `${megabytes(receivedBytes / elapsedSeconds)}/s` : '';
  if (totalBytes === null || totalBytes <= 0)
    return `${fileName}: ${megabytes(receivedBytes)} ${speed}`.trimEnd();
  const fraction = Math.min(1, receivedBytes / totalBytes);
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${fileName}: ${percent} [${bar}] ${megabytes(receivedBytes)}/${megabytes(totalBytes)} ${speed}`.trimEnd();
}

/**
 * A progress callback that redraws one stderr line at most ten times a second, or a no-op when
 * stderr is not a terminal (logs stay clean in CI).
 */
export function stderrProgressBar(
  stream: NodeJS.WriteStream = process.stderr,
): (progress: DownloadProgress) => void {
  if (!stream.isTTY) return () => {};
  const start = Date.now();
  let lastDraw = 0;
  return (progress) => {
    const now = Date.now();
    if (!progress.done && now - lastDraw < 100) return;
    lastDraw = now;
    stream.write(`\r${formatProgressLine(progress, (now - start) / 1000)}\x1b[K${progress.done ? '\n' : ''}`);
  };
}
