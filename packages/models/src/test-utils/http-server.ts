// A tiny HTTP server on 127.0.0.1 for download tests: serves byte arrays by path and counts requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a route answers: its bytes, or a handler that writes the response itself. */
export type Route = Uint8Array | ((req: IncomingMessage, res: ServerResponse) => void);

export interface TestServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Path -> how it answers; add routes at any time. */
  readonly routes: Map<string, Route>;
  /** Path -> number of requests received. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port of 127.0.0.1. */
export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    } else if (typeof route === 'function') {
      route(req, res);
    } else {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': route.byteLength });
      // Several writes, so that clients see more than one chunk.
      const step = Math.max(1, Math.ceil(route.byteLength / 4));
      for (let i = 0; i < route.byteLength; i += step) res.write(route.subarray(i, i + step));
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
