// Storage creation order: each storage takes the next number when it is made, so autograd can tell the
// storages a backward pass created (and may free) from everything older.

let storageSerial = 0;

/** A number larger than that of every storage made before. */
export function nextStorageSerial(): number {
  return ++storageSerial;
}
