// Options objects that refuse what they do not know: an unknown key throws with a "did you mean".

/** `weight_decay` -> `weightDecay`, `T_max` -> `TMax`: the camelCase spelling graft uses for a PyTorch name. */
export function toCamelCase(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (m, c: string, at: number) => (at === 0 ? m : c.toUpperCase()));
}

/** A name as compared for suggestions: case and underscores ignored (`T_max` and `tMax` are the same). */
function folded(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** Optimal string alignment distance: edits, with a swap of two neighbours counting as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name `name` was probably meant to be, or undefined when none is close: first the camelCase form
 * of a snake_case name (`weight_decay` -> `weightDecay`), then the same name ignoring case and underscores
 * (`T_max` -> `tMax`), then the nearest name by edit distance (at most one edit per three characters), then
 * the shortest name it begins (`train` -> `training`, for a name of three characters or more).
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const camel = toCamelCase(name);
  if (camel !== name && known.includes(camel)) return camel;
  const key = folded(name);
  const sameFolded = known.find((k) => folded(k) === key);
  if (sameFolded !== undefined) return sameFolded;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3));
  for (const k of known) {
    const distance = editDistance(key, folded(k));
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = k;
      bestDistance = distance;
    }
  }
  if (best !== undefined || key.length < 3) return best;
  for (const k of known) {
    if (folded(k).startsWith(key) && (best === undefined || k.length < best.length)) best = k;
  }
  return best;
}

/**
 * The message for an unknown option: `SGD: unknown option 'weight_decay'; did you mean 'weightDecay'?`, or,
 * when no known name is close, `...; valid options are lr, momentum, ...`.
 */
export function unknownOptionMessage(where: string, name: string, known: readonly string[]): string {
  const guess = didYouMean(name, known);
  if (guess !== undefined) return `${where}: unknown option '${name}'; did you mean '${guess}'?`;
  const valid = known.length ? `valid options are ${known.join(', ')}` : 'it takes no options';
  return `${where}: unknown option '${name}'; ${valid}`;
}

/**
 * Refuses an options object with a key outside `known` (a TypeError, as Python raises for an unexpected
 * keyword argument), naming the closest known option: `checkOptions('SGD', opts, ['lr', 'momentum'])`.
 * `undefined` and `null` pass (no options); anything other than a plain object throws. Keys whose value is
 * `undefined` are checked too: `{ weight_decay: undefined }` is still a slip.
 */
export function checkOptions(where: string, opts: object | undefined | null, known: readonly string[]): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    const got = Array.isArray(opts) ? 'an array' : typeof opts;
    throw new TypeError(`${where}: expected an options object, got ${got}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new TypeError(unknownOptionMessage(where, key, known));
  }
}
