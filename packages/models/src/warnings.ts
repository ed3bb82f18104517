// Deprecation warnings that work in Node (process.emitWarning: `--no-deprecation` silences them,
// `--throw-deprecation` turns them into errors) and in browsers (console.warn).

interface WarningProcess {
  emitWarning(message: string, options: { type: string; code: string }): void;
}

/** Emits `message` as a DeprecationWarning with `code` (Node), or logs it with console.warn (elsewhere). */
export function warnDeprecated(message: string, code: string): void {
  const proc = (globalThis as { process?: Partial<WarningProcess> }).process;
  if (typeof proc?.emitWarning === 'function')
    proc.emitWarning(message, { type: 'DeprecationWarning', code });
  else console.warn(`DeprecationWarning: ${message}`);
}
