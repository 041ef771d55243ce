/**
 * An append-only list that tests can await: `waitFor` resolves with the first item (already
 * recorded or still to come) that matches, so a test waits for the event itself instead of
 * polling with timers.
 */
export class RecordedList<T> {
  readonly items: T[] = [];
  readonly #waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(item)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(item);
      }
    }
  }

  waitFor(match: (item: T) => boolean): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}
