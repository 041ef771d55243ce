/**
 * How much of a loop on the request thread runs in each turn of the event loop, counted rather
 * than timed: items are watched copies that count themselves when a chosen property is read, and
 * a setImmediate chain closes a turn's count each time it runs. A loop that yields between
 * slices shows one count per slice; one that does not shows everything in one turn.
 */

export interface TurnTally {
  /** A copy of `item` that counts in the current turn (once per turn) when `key` is read. */
  watch<T extends object>(item: T, key: keyof T & string): T;
  /** Runs `work`, closing a turn at every setImmediate until it settles. */
  during<R>(work: () => Promise<R>): Promise<{ result: R; perTurn: number[] }>;
}

export function turnTally(): TurnTally {
  let touched = new Set<object>();
  return {
    watch(item, key) {
      const copy = { ...item };
      const value = item[key];
      Object.defineProperty(copy, key, {
        enumerable: true,
        get() {
          touched.add(copy);
          return value;
        },
      });
      return copy;
    },
    async during(work) {
      const perTurn: number[] = [];
      let settled = false;
      const closeTurn = (): void => {
        perTurn.push(touched.size);
        touched = new Set();
        if (!settled) setImmediate(closeTurn);
      };
      touched = new Set();
      setImmediate(closeTurn);
      const result = await work();
      settled = true;
      // The turn the work ended in.
      await new Promise((resolve) => setImmediate(resolve));
      return { result, perTurn: perTurn.filter((count) => count > 0) };
    },
  };
}
