// Cross-origin isolation on plain static hosting: this service worker re-serves the site's responses with
// the COOP and COEP headers that a server would send, so that the playground page gets SharedArrayBuffer
// and the CPU backend's WebAssembly thread pool. The playground registers it (see
// .vitepress/playground/isolation.ts) and reloads once when it takes control. Every page of the site loads
// only same-origin resources, so `require-corp` blocks nothing here.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** Copies a response, adding the isolation headers (and CORP, so a worker script passes COEP too). */
function isolated(response) {
  // Opaque responses (cross-origin, no-cors) and errors cannot be rebuilt; let COEP judge them as they are.
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect')
    return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  if (!headers.has('Cross-Origin-Resource-Policy'))
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Only this site's own files; a request the browser may answer only from its cache (DevTools sends
  // these) must not go to the network from here.
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(fetch(request).then(isolated));
});
