import type { MessageKind } from "../wire/messages.ts";

/**
 * Own messages that go to every peer on their topic, not only to the mesh (gossipsub's flood
 * publishing, for these messages alone): the epoch decision's proposals, accepts and views.
 *
 * A node takes part in an epoch's rounds only once it holds the decision, and every round waits
 * for the last member to adopt it. A young network is a star around its bootstrap node, whose
 * mesh holds 12 of its leaves (D_hi); the founder's proposal reached the others only through
 * IHAVE gossip or their decision requests, which back off while they have heard of no epoch
 * (protocol §9.3). Of fifty nodes in one process, the last began epoch 0's rounds 0.8–2.0 s after
 * the first (3.9–4.1 s after all were up); with these messages flooded, 0.11–0.20 s after it (2.3–
 * 3.3 s): a leaf that gets the founder's proposal has heard of an epoch and asks for the decision
 * at once. They are a few messages per decider per epoch, so flooding them costs little; flooding
 * every message (each member's demand, each round) went with the thinner mesh for its copies
 * (docs/scaling.md §5).
 */
const FLOODED: ReadonlySet<MessageKind> = new Set<MessageKind>(["propose", "accept", "view"]);

export function floodsOnPublish(kind: MessageKind): boolean {
  return FLOODED.has(kind);
}
