/**
 * Answers without a decided epoch a suspended founder needs before it founds after all (§9.3):
 * two announce intervals of its brisk asks (FIRST_EPOCH_ASKS per announceMs), so that one peer's
 * empty answer, or a few from joiners as new as itself, do not outweigh the peer that holds it.
 */
export const RESUME_ANSWERS = 8;

/**
 * Whether a founder may found the first epoch (docs/protocol.md §9.3). A message of an epoch from
 * another agent only suspends founding: before it has an epoch the founder can check such a
 * message against nothing, and one signed by a throwaway key cancelled founding for good. It
 * resumes once RESUME_ANSWERS answers to its `decision` requests held no decided epoch and a round
 * timeout has passed; silence (asks lost, no peer) never resumes it. Once resumed it stays so: a
 * stranger could otherwise suspend it again with one message per round timeout, forever.
 */
export type FoundingGate =
  | { readonly state: "open" }
  | { readonly state: "suspended"; readonly since: number; readonly empty: number }
  | { readonly state: "resumed"; readonly since: number; readonly empty: number };

export const OPEN_GATE: FoundingGate = { state: "open" };

/** The gate after one more answer holding no decided epoch, at `now`; `waitMs`: the round timeout. */
export function answeredEmpty(gate: FoundingGate, now: number, waitMs: number): FoundingGate {
  if (gate.state !== "suspended") return gate;
  const empty = gate.empty + 1;
  const state = empty >= RESUME_ANSWERS && now >= gate.since + waitMs ? "resumed" : "suspended";
  return { state, since: gate.since, empty };
}

/** Whether a founder's decision requests back off: it has asked briskly for a round timeout in vain. */
export function askedEnough(gate: FoundingGate, now: number, waitMs: number): boolean {
  return gate.state === "resumed" || (gate.state === "suspended" && now >= gate.since + waitMs);
}
