// Makes the playground page cross-origin isolated on any static host: registers the site's service
// worker (public/coi-service-worker.js), which adds the COOP/COEP headers, and reloads once when it first
// takes control. Where that cannot work (no service workers, not a secure context, a browser that ignores
// the headers) the page stays as it is and the CPU backend runs on one thread.

/** The page's isolation, and why it is not isolated when it is not. */
export type Isolation =
  | { isolated: true }
  | { isolated: false; reason: string }
  /** The page is reloading under the service worker: start nothing. */
  | { isolated: false; reloading: true };

const RELOADED_FLAG = 'graft-coi-reloaded';

/**
 * Resolves to the page's isolation. `workerUrl` is the service worker's URL and `scope` the site's base
 * (both with the site's base path). Gives up after `timeoutMs` waiting for the worker to register, and
 * as long again for it to take control.
 */
export async function ensureCrossOriginIsolation(
  workerUrl: string,
  scope: string,
  timeoutMs = 5000,
): Promise<Isolation> {
  if (window.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED_FLAG);
    return { isolated: true };
  }
  if (!window.isSecureContext) return { isolated: false, reason: 'the page is not a secure context (https)' };
  if (!('serviceWorker' in navigator))
    return { isolated: false, reason: 'this browser has no service workers' };
  // Reloaded for the worker and still not isolated: the browser ignores the headers; do not loop.
  if (sessionStorage.getItem(RELOADED_FLAG)) {
    sessionStorage.removeItem(RELOADED_FLAG);
    return { isolated: false, reason: 'the browser did not isolate the page under the service worker' };
  }
  let registration: ServiceWorkerRegistration | null;
  try {
    // A blocked registration may never settle (Playwright's `serviceWorkers: 'block'` does that).
    registration = await Promise.race([
      navigator.serviceWorker.register(workerUrl, { scope }),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs)),
    ]);
  } catch (e) {
    return {
      isolated: false,
      reason: `the service worker did not register (${e instanceof Error ? e.message : String(e)})`,
    };
  }
  if (!registration) return { isolated: false, reason: 'the service worker did not register in time' };
  // A new worker claims this page once active. An active one that does not control the page was bypassed
  // (a hard reload); a plain reload goes through it.
  if (!navigator.serviceWorker.controller && !registration.active) {
    const controlled = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      navigator.serviceWorker.addEventListener(
        'controllerchange',
        () => {
          clearTimeout(timer);
          resolve(true);
        },
        { once: true },
      );
      // It may have claimed the page between `register` resolving and the listener.
      if (navigator.serviceWorker.controller) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    if (!controlled) return { isolated: false, reason: 'the service worker did not take control in time' };
  }
  // This document was loaded without the headers: load it again through the worker.
  sessionStorage.setItem(RELOADED_FLAG, '1');
  window.location.reload();
  return { isolated: false, reloading: true };
}
