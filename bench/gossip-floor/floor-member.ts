import { randomBytes } from "node:crypto";
import type { Host } from "@walras/node";

const TOPIC = "/walras-bench/gossip-floor/1";

/** The router's mesh, which `GossipSub`'s public type does not show (as in `network/gossip.ts`). */
interface MeshView {
  readonly opts: { readonly Dlo: number };
  getMeshPeers(topic: string): string[];
}

/**
 * One bare host's part in the floor, the same whether it runs beside the others or in a process
 * of its own: it subscribes, counts every copy gossipsub receives, counts each round's first
 * copies, and publishes a round's message when told. `onDelivery` fires on each first copy.
 */
export interface FloorMember {
  /** gossipsub's D_lo: the mesh size at which this host counts as meshed. */
  readonly dlo: number;
  meshSize(): number;
  /** Distinct messages of `round` received (the host's own not included). */
  got(round: number): number;
  /** Every message gossipsub has received, duplicates included. */
  receptions(): number;
  publish(round: number, bytes: number): Promise<void>;
}

export function joinFloor(host: Host, onDelivery: (round: number) => void): FloorMember {
  const pubsub = host.libp2p.services.pubsub;
  const mesh = pubsub as unknown as MeshView;
  const inbox = new Map<number, number>();
  let receptions = 0;
  countReceptions(pubsub, () => receptions++);
  pubsub.subscribe(TOPIC);
  pubsub.addEventListener("message", (e) => {
    if (e.detail.topic !== TOPIC) return;
    const round = e.detail.data[0] as number;
    inbox.set(round, (inbox.get(round) ?? 0) + 1);
    onDelivery(round);
  });
  return {
    dlo: mesh.opts.Dlo,
    meshSize: () => mesh.getMeshPeers(TOPIC).length,
    got: (round) => inbox.get(round) ?? 0,
    receptions: () => receptions,
    publish: async (round, bytes) => {
      // The first byte carries the round number; the rest is random, so no two are one message.
      const data = randomBytes(bytes);
      data[0] = round;
      await pubsub.publish(TOPIC, data);
    },
  };
}

/**
 * Counts every message gossipsub receives, duplicates included (its events report only the first
 * copy). `handleReceivedMessage` is gossipsub's own entry for each message of an RPC; if a new
 * version renames it, the bench says so rather than report zero.
 */
function countReceptions(pubsub: object, count: () => void): void {
  const target = pubsub as { handleReceivedMessage?: (...args: unknown[]) => unknown };
  const original = target.handleReceivedMessage;
  if (typeof original !== "function")
    throw new Error(
      "gossipsub has no handleReceivedMessage: update bench/gossip-floor/floor-member.ts for this version",
    );
  target.handleReceivedMessage = (...args: unknown[]) => {
    count();
    return original.apply(pubsub, args);
  };
}
