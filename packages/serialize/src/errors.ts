// The one error class the package throws for malformed, hostile or unsupported input.

/** Thrown for every file that cannot be read or value that cannot be written; the message names the part, the expected and the actual. */
export class SerializeError extends Error {
  override readonly name = 'SerializeError';
}

/** Throws a SerializeError; handy inside expressions. */
export function fail(message: string): never {
  throw new SerializeError(message);
}
