import type { Libp2p, PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import { requestSync } from "./sync-protocol.ts";

/**
 * Asks a bootstrap peer which contract it serves and warns when it is not this node's. Gossip is
 * per contract (each topic names its id), so a node bootstrapped into another contract's market
 * hears nothing from it and, without this, waits for a market that never comes and says nothing.
 * A warning, not an error: the peer may be an observer of several markets' networks, and other
 * peers of the right market may yet be discovered through it.
 */
export async function checkBootstrapContract(
  libp2p: Libp2p,
  peer: PeerId,
  address: string,
  contractId: string,
  log: Logger,
): Promise<void> {
  let served: unknown;
  try {
    served = (await requestSync(libp2p, peer, { type: "status" })).status.contractId;
  } catch (err) {
    log.debug({ peer: peer.toString(), err: (err as Error).message }, "bootstrap peer's contract unknown");
    return;
  }
  if (served !== contractId)
    log.warn(
      { peer: peer.toString(), addr: address, theirs: served, ours: contractId },
      `bootstrap peer ${peer.toString()} serves contract ${String(served)}, not this node's ${contractId}: this node will not hear its market; check --bootstrap and --contract`,
    );
}
