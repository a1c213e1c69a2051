import type { WalrasNodeInit } from "@walras/node";

export type ConnectionGater = NonNullable<WalrasNodeInit["connectionGater"]>;

/** A gater that keeps a node from the peers `denies` names: it neither dials nor accepts them. */
export function peerGater(denies: (peer: string) => boolean): ConnectionGater {
  const deny = async (peer: { toString(): string }) => denies(peer.toString());
  return { denyDialPeer: deny, denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny };
}
