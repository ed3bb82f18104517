// Where checkpoints are cached: graft's own folder first, then PyTorch's hub folder, so torchvision users never download twice.
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `~` and `~/...` expanded to the home folder, as Python's os.path.expanduser does. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

function cacheBase(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return expandHome(xdg ? xdg : '~/.cache');
}

/** graft's cache folder: `$GRAFT_HOME`, else `$XDG_CACHE_HOME/graft`, else `~/.cache/graft`. */
export function graftHome(): string {
  const env = process.env.GRAFT_HOME;
  return env ? expandHome(env) : join(cacheBase(), 'graft');
}

/** Where graft keeps downloaded checkpoints: `<graftHome()>/checkpoints`. */
export function graftCheckpointDir(): string {
  return join(graftHome(), 'checkpoints');
}

/** PyTorch's home as torch.hub computes it: `$TORCH_HOME`, else `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`. */
export function torchHome(): string {
  const env = process.env.TORCH_HOME;
  return env ? expandHome(env) : join(cacheBase(), 'torch');
}

/** Where torch.hub (and so torchvision) keeps checkpoints: `<torchHome()>/hub/checkpoints`. */
export function torchHubCheckpointDir(): string {
  return join(torchHome(), 'hub', 'checkpoints');
}

/** Where a cached checkpoint was found. */
export type CacheOrigin = 'graft-cache' | 'torch-cache';

/** The first cached copy of `fileName`: graft's cache, then PyTorch's; null when neither has it. */
export async function findCachedCheckpoint(
  fileName: string,
): Promise<{ path: string; origin: CacheOrigin } | null> {
  const candidates: [string, CacheOrigin][] = [
    [join(graftCheckpointDir(), fileName), 'graft-cache'],
    [join(torchHubCheckpointDir(), fileName), 'torch-cache'],
  ];
  for (const [path, origin] of candidates) {
    try {
      await access(path);
      return { path, origin };
    } catch {
      // not there: try the next cache
    }
  }
  return null;
}
