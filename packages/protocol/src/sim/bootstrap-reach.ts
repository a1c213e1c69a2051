/**
 * The bootstrap nodes each simulated process has not reached yet. A live node dials each of its
 * `--bootstrap` addresses in a loop until it connects (the node's network/bootstrap-dialer.ts)
 * and its machine learns the key behind an address at that first connection, once per process
 * (machine/bootstrap-peers.ts). The simulator has no connection between two given nodes, only
 * reachability (both up and linked, one side of any partition), so "connects" is "reaches": a
 * bootstrap node that is down, or across a partition, or a process not yet linked, is learned at
 * the first moment the two reach each other, if ever. Two approximations: the dialer's back-off
 * (up to 10 s) is not modelled, the key is learned at that very moment; and a joiner that reaches
 * none of its bootstrap nodes still reaches every other node, as discovery is all-to-all here.
 * Neither moves what the rule decides: a key is only used for gossip from that node, which cannot
 * reach the joiner before the two reach each other.
 */
export class BootstrapReach<N extends object> {
  /** By process: a restart is a new one, which learns every key again. */
  readonly #awaiting = new Map<N, string[]>();

  /** `process` was started (or restarted) with the nodes named `bootstrap`: none is reached yet. */
  started(process: N, bootstrap: readonly string[]): void {
    if (bootstrap.length > 0) this.#awaiting.set(process, [...bootstrap]);
  }

  /**
   * Reachability changed: each process still up is told of each bootstrap node it awaits and now
   * reaches (`reached`: the node of that name it reaches, or null). A process that is no longer up
   * is forgotten, and so is a bootstrap node that has no key (`keyless`): it signs nothing.
   */
  reach(
    up: (process: N) => boolean,
    reached: (process: N, name: string) => "reached" | "keyless" | null,
    tell: (process: N, name: string) => void,
  ): void {
    for (const [process, names] of this.#awaiting) {
      if (!up(process)) {
        this.#awaiting.delete(process);
        continue;
      }
      const left = names.filter((name) => {
        const r = reached(process, name);
        if (r === "reached") tell(process, name);
        return r === null;
      });
      if (left.length === 0) this.#awaiting.delete(process);
      else this.#awaiting.set(process, left);
    }
  }
}
