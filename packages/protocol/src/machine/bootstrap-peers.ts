import type { AgentId } from "../wire/ids.ts";
import type { WireMessage } from "../wire/messages.ts";

/**
 * More than any operator lists; a node learns one key per bootstrap address, at its first
 * connection, so the cap only bounds a misconfigured node.
 */
export const MAX_BOOTSTRAP_PEERS = 16;

/**
 * The keys of the nodes this node bootstraps from (peer id = agent id): the peers its operator
 * chose to trust for its first epoch, as it already trusts them for the contract (docs/security.md
 * §2). A node without an epoch takes such a peer's own decision message when that peer itself
 * sent it by gossip: what it would take from that peer's answer to an ask, one round trip sooner
 * (docs/protocol.md §9.3). A copy forwarded by anyone else is not taken: a stranger could replay an
 * old one, and a decision long superseded would send the joiner through every epoch since.
 */
export class BootstrapPeers {
  readonly #keys = new Set<AgentId>();

  add(peer: AgentId): void {
    if (this.#keys.size < MAX_BOOTSTRAP_PEERS) this.#keys.add(peer);
  }

  /** Whether `m` came by gossip straight from the bootstrap node that signed it. */
  sentItself(m: WireMessage, from: AgentId | undefined): boolean {
    return from !== undefined && from === m.agent && this.#keys.has(from);
  }
}
