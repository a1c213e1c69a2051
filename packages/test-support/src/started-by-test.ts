/** Anything a test starts that listens or runs until told to stop: a cluster, a hostile peer, a node. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * What one test started, stopped after it whether it passed or not (the file's `afterEach` calls
 * `stop`): a test that fails half-way must leave nothing listening that the next one could reach.
 */
export interface StartedByTest {
  /** Keeps `item` to stop after the test, and hands it back. */
  add<T extends Stoppable>(item: T): T;
  /** Stops everything added, newest first (a peer before the network it was set against), and forgets it. */
  stop(): Promise<void>;
}

export function startedByTest(): StartedByTest {
  let items: Stoppable[] = [];
  return {
    add(item) {
      items.push(item);
      return item;
    },
    async stop() {
      const newestFirst = items.reverse();
      items = [];
      const failed: unknown[] = [];
      // Each stopped even when one before it threw, synchronously or not.
      for (const item of newestFirst)
        await Promise.resolve()
          .then(() => item.stop())
          .catch((e: unknown) => failed.push(e));
      if (failed.length === 1) throw failed[0];
      if (failed.length > 1)
        throw new AggregateError(failed, `${failed.length} of the test's peers failed to stop`);
    },
  };
}
