/**
 * How deep the JSON of a stored event may nest. No append writes more than a handful of levels
 * (a process definition, the deepest, about ten); a row edited to nest thousands deep parses, but
 * every reader that writes it out again — an answer's JSON, the hash chain's canonical text — would
 * overflow the stack and fail far from its cause. Well below the depth that overflows (about 5,000
 * for JSON.stringify) and far above any event's.
 */
export const MAX_STORED_JSON_DEPTH = 1_000;

/** Whether `value` nests arrays and objects deeper than `limit` levels (itself the first), walked without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const pending: Array<readonly [object, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (depth > limit) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') pending.push([child as object, depth + 1]);
  }
  return false;
}
