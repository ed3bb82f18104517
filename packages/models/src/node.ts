// @graft/models/node: the Node-only half: checkpoint caches (graft's and PyTorch's), downloads, progress bar.

export { readCheckpointBytes } from './checkpoint-source/node.js';
export * from './index.js';
export {
  type CacheOrigin,
  expandHome,
  findCachedCheckpoint,
  graftCheckpointDir,
  graftHome,
  torchHome,
  torchHubCheckpointDir,
} from './node/cache-dirs.js';
export {
  type CheckpointOrigin,
  DownloadError,
  type DownloadOptions,
  downloadCheckpoint,
  type EnsureCheckpointOptions,
  ensureCheckpoint,
} from './node/download.js';
export { formatProgressLine, stderrProgressBar } from './node/progress.js';
