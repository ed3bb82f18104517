// A file's bytes as an ordered run of chunks, produced on demand: writers hand them to a sink (a file
// descriptor in Node, one buffer elsewhere) so a checkpoint never needs a second whole copy in memory.

/** Receives the next chunk; it may be a view of WebAssembly memory, valid only during the call. */
export type ByteSink = (chunk: Uint8Array) => void;

export interface Encoded {
  /** Total bytes `emit` hands to the sink. */
  size: number;
  /** Produces the chunks in order, synchronously. */
  emit(sink: ByteSink): void;
}

/** The chunks copied into one buffer. */
export function collect(encoded: Encoded): Uint8Array {
  const out = new Uint8Array(encoded.size);
  let at = 0;
  encoded.emit((chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  if (at !== encoded.size) throw new Error(`internal: produced ${at} bytes, planned ${encoded.size}`);
  return out;
}
