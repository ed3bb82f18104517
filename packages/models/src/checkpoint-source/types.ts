// What the weights loader asks of a checkpoint source: bytes for a URL or a path.

/** How far a download has come; `totalBytes` is null when the server sent no length. */
export interface DownloadProgress {
  url: string;
  fileName: string;
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
  /** Draw a progress bar on stderr when it is a terminal (Node; default true). */
  progress?: boolean;
  /** Called as a download proceeds, and once more with `done: true`. */
  onProgress?: (progress: DownloadProgress) => void;
}
