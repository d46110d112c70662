/**
 * Appends every item of `items` to `target`. `target.push(...items)` passes each item as an
 * argument and overflows the stack past about 100k items (one symbol with that many buys).
 */
export function appendAll<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item);
}
