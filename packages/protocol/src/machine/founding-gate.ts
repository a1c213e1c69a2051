import type { AgentId } from "../wire/ids.ts";

/**
 * Answers without a decided epoch a suspended founder needs before it founds after all (§9.3).
 * The node asks 2 peers per ask and FIRST_EPOCH_ASKS asks per announceMs (decision-ask-pace.ts),
 * so 8 take about one announceMs when 2 or more peers answer. A count alone lets one peer outweigh the rest (it answers
 * every ask it gets): RESUME_PEERS is what keeps it from doing so.
 */
export const RESUME_ANSWERS = 8;

/**
 * Distinct peers among those answers. One peer answers every ask it gets (one joiner gave 37 empty
 * answers in 3 s): counted per answer, one joiner as new as the founder outweighed the peer that
 * holds the decision. Two is the least that one peer cannot make up alone, and a founder with a
 * single peer may well be the real network's first node with its first joiner: more would leave it
 * suspended until a third node came.
 */
export const RESUME_PEERS = 2;

/**
 * Round timeouts after which one peer's empty answers are enough. A market of two (the founder and
 * its first joiner) has no second peer to answer, and a stranger that sends one message and then
 * stays silent would hold its founding off until a third node came. By then the suspending agents'
 * nodes, asked first at every ask (SUSPENDERS), have had dozens of chances to show their decision.
 */
export const LONE_PEER_ROUNDS = 4;

/**
 * The agents whose messages suspended founding that the gate keeps: the founder's asks go to their
 * nodes first (agent id = peer id), as they surely hold their epoch's decision. A few: the rest of
 * a stranger's throwaway keys would only lengthen every ask.
 */
export const SUSPENDERS = 3;

/**
 * Whether a founder may found the first epoch (docs/protocol.md §9.3). A message of an epoch from
 * another agent only suspends founding: before it has an epoch the founder can check such a
 * message against nothing, and one signed by a throwaway key cancelled founding for good. It
 * resumes once RESUME_ANSWERS answers to its `decision` requests, from RESUME_PEERS distinct peers
 * or more (one, after LONE_PEER_ROUNDS round timeouts), held no decided epoch and a round timeout
 * has passed; silence (asks lost, no peer) never
 * resumes it. Once resumed it stays so: a stranger could otherwise suspend it again with one
 * message per round timeout, forever.
 */
export type FoundingGate =
  | { readonly state: "open" }
  | {
      readonly state: "suspended" | "resumed";
      readonly since: number;
      readonly empty: number;
      /** Distinct peers that answered empty, up to RESUME_PEERS. */
      readonly peers: readonly string[];
      /** The first SUSPENDERS agents whose messages of an epoch it heard. */
      readonly by: readonly AgentId[];
    };

export const OPEN_GATE: FoundingGate = { state: "open" };

/** The gate once `agent`'s message of an epoch is heard at `now`: suspended if it was open. */
export function heardEpoch(gate: FoundingGate, agent: AgentId, now: number): FoundingGate {
  if (gate.state === "open") return { state: "suspended", since: now, empty: 0, peers: [], by: [agent] };
  if (gate.state === "resumed" || gate.by.length >= SUSPENDERS || gate.by.includes(agent)) return gate;
  return { ...gate, by: [...gate.by, agent] };
}

/**
 * The gate after `peer` answered without a decided epoch, at `now`; `waitMs`: the round timeout.
 */
export function answeredEmpty(gate: FoundingGate, now: number, waitMs: number, peer: string): FoundingGate {
  if (gate.state !== "suspended") return gate;
  const empty = gate.empty + 1;
  const peers =
    gate.peers.length >= RESUME_PEERS || gate.peers.includes(peer) ? gate.peers : [...gate.peers, peer];
  const enough =
    empty >= RESUME_ANSWERS &&
    now >= gate.since + waitMs &&
    (peers.length >= RESUME_PEERS || now >= gate.since + LONE_PEER_ROUNDS * waitMs);
  return { ...gate, state: enough ? "resumed" : "suspended", empty, peers };
}

/** The agents whose nodes a suspended founder asks first for the current decision. */
export function suspenders(gate: FoundingGate): readonly AgentId[] {
  return gate.state === "suspended" ? gate.by : [];
}
