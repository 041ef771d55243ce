/**
 * Long loops on the request thread, cut into slices with a turn of the event loop between them:
 * a Check that arrives meanwhile waits for one slice at most, never for the whole loop
 * (docs/performance.md, "Allowlist reload"). Slices are counted in items; each caller sizes
 * them so that one slice is well under a few milliseconds of work.
 */

/** Resolves on a later turn of the event loop, after the I/O that is due (setImmediate). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Calls `visit` on every item in order, at most `size` items per turn of the event loop. */
export async function forEachInSlices<T>(
  items: readonly T[],
  size: number,
  visit: (item: T) => void,
): Promise<void> {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`bad slice size ${size}`);
  for (let start = 0; start < items.length; start += size) {
    if (start > 0) await yieldToEventLoop();
    for (const item of items.slice(start, start + size)) visit(item);
  }
}
