/**
 * Own messages published while no subscriber of their topic could be sent to, kept per topic until
 * one can.
 * A node's first `join` goes out as it starts, before its bootstrap connection has carried a
 * subscription, and gossipsub sends it to no one (it would then refuse the same bytes again as a
 * duplicate for two minutes); the joiner's next announcements back off (1, 2, 4, 8 s …), so with
 * 50 processes starting on two cores the founder heard the last joiners only 4–6 s after every
 * node was up. Kept instead, such a message goes out with the first subscription.
 */
export interface UnheardMessages {
  hold(topic: string, bytes: Uint8Array): void;
  holds(topic: string): boolean;
  /** The messages held for `topic`, oldest first, and forgets them. */
  take(topic: string): Uint8Array[];
}

/** At most this many per topic, the oldest dropped first: a node alone for long sends its latest. */
export const MAX_UNHEARD_PER_TOPIC = 64;

export function createUnheardMessages(max = MAX_UNHEARD_PER_TOPIC): UnheardMessages {
  const held = new Map<string, Uint8Array[]>();
  return {
    hold: (topic, bytes) => {
      const list = held.get(topic) ?? [];
      list.push(bytes);
      if (list.length > max) list.shift();
      held.set(topic, list);
    },
    holds: (topic) => held.has(topic),
    take: (topic) => {
      const list = held.get(topic) ?? [];
      held.delete(topic);
      return list;
    },
  };
}
