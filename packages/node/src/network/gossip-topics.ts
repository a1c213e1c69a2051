export const GOSSIP_KINDS = ["demand", "commit", "membership"] as const;
export type GossipKind = (typeof GOSSIP_KINDS)[number];

/** `/walras/<contractId>/<kind>/2`: one topic per message kind, so scoring and meshes are per kind. */
export function gossipTopic(contractId: string, kind: GossipKind): string {
  return `/walras/${contractId}/${kind}/2`;
}
