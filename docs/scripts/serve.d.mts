// Types of serve.mjs, for the browser test.
import type { Server } from 'node:http';

/** Serves `root` on 127.0.0.1 at a free port (or `port`). */
export function serve(
  root: string,
  options?: { port?: number; log?: boolean },
): Promise<{ server: Server; url: string }>;
