// What the weights loader asks of a checkpoint source: bytes for a URL or a path.

/** How far a download has come; `totalBytes` is null when the server sent no length. */
export interface DownloadProgress {
  url: string;
  fileName: string;
  /** Where the file is being saved (Node: the cache path); absent in browsers, which keep it in memory. */
  destination?: string;
  receivedBytes: number;
  totalBytes: number | null;
  done: boolean;
}

/** A request for a checkpoint's bytes. */
export interface CheckpointRequest {
  /** An http(s):// or file:// URL, or a local path (Node only). */
  source: string;
  /** The name a URL's file is cached under (default: the URL's last path segment). */
  fileName?: string;
  /** The sha256 prefix a download must match (default: taken from the file name; null: no check). */
  hashPrefix?: string | null;
  /**
   * Announce a download on stderr (`Downloading: "<url>" to <path>`) and draw a progress bar when
   * stderr is a terminal (Node; default true). false: quiet.
   */
  progress?: boolean;
  /** Called before a download starts (0 bytes), as it proceeds, and once more with `done: true`. */
  onProgress?: (progress: DownloadProgress) => void;
}

/** The keys of CheckpointRequest, for checking request objects. */
export const CHECKPOINT_REQUEST_KEYS: readonly (keyof CheckpointRequest)[] = [
  'source',
  'fileName',
  'hashPrefix',
  'progress',
  'onProgress',
];
