import { createPrng, type Prng, uniform, uniformInt } from "../random/prng.ts";
import type { Signer } from "../wire/agent-key.ts";
import type { DemandMessage, Unsigned, WireMessage } from "../wire/messages.ts";
import { signMessage } from "../wire/signing.ts";
import type { AgentPlan } from "./schedule.ts";

/**
 * FAULT INJECTION: Byzantine wire behaviour, the attacker of docs/security.md §2 who holds a
 * member's key or replays what it observed. Lying members (lying-member.ts) sign truthful-looking
 * values through the machine; these act on the wire, around an otherwise honest machine:
 *
 * - an equivocator: every demand its machine signs, it signs a second time with another x (a
 *   valid signature over another body for the same (demand, epoch, round, agent) slot, protocol
 *   §4) and sends each peer one of the two at random (the machine, its store and what it answers
 *   a sync with keep the first). Demands only: they are what every node's prices are computed
 *   from, and docs/security.md promises that holding a member's key does not make honest nodes
 *   compute different prices. A second commit or proposal is not drawn: protocol §11 says a
 *   member signing two of those can break I1/I3 (crash-fault Paxos, not BFT), so no invariant
 *   could be asked of it;
 * - a replayer (`replay` faults): a node re-sends messages from its store, byte for byte, each
 *   to a random half of its peers, at random times: old rounds, old epochs, others' messages;
 * - a forger (`forge` faults): as a replay, but each message garbled under its old signature
 *   (another epoch, another x, or one character of the signature changed), so none verifies.
 */
export type ByzantineAct = "equivocate" | "replay" | "forge";

/** What a schedule draws: its equivocators (by name) for the whole run. Replays and forgeries are faults. */
export interface ByzantinePlan {
  readonly equivocators: readonly string[];
}

export const NO_BYZANTINE: ByzantinePlan = { equivocators: [] };

/** The timed acts, as fault-model.ts applies them. */
export type ByzantineFault =
  | { readonly at: number; readonly type: "replay"; readonly agent: string; readonly count: number }
  | { readonly at: number; readonly type: "forge"; readonly agent: string; readonly count: number };

/** One seed in nine draws Byzantine behaviour: about as often as other rare faults (deafness: one in six). */
export const BYZANTINE_SHARE = 1 / 9;

const BYZANTINE_STREAM = 0xb42a_0001;

/**
 * The Byzantine draw of one seed, from a stream of its own (`seed ^ 0xb42a0001`), so that every
 * seed keeps every other draw it made before. Among the seeds that draw any: an equivocator in
 * half (only with 3 agents or more: one of two is not a minority, and the honest majority's
 * liveness is what the simulator asks), a replayer in half, a forger in a third; at least one
 * of the three. The equivocator is never the first agent (the founder): a founder that decides
 * the first epoch alone is trusted on first use anyway (protocol §9.6), which tells nothing new.
 */
export function drawByzantine(
  seed: number,
  agents: readonly AgentPlan[],
  windowMs: number,
  allowEquivocators = false,
): { plan: ByzantinePlan; faults: ByzantineFault[] } {
  const prng = createPrng((seed ^ BYZANTINE_STREAM) >>> 0);
  if (prng() >= BYZANTINE_SHARE || agents.length < 2) return { plan: NO_BYZANTINE, faults: [] };
  const n = agents.length;
  let equivocate = n >= 3 && prng() < 0.5;
  let replay = prng() < 0.5;
  const forge = prng() < 1 / 3;
  if (!equivocate && !replay && !forge) {
    if (n >= 3) equivocate = true;
    else replay = true;
  }
  // Picked whether or not equivocators are allowed, so that allowing them changes nothing else.
  const pick = equivocate ? (agents[1 + uniformInt(prng, n - 1)] as AgentPlan).name : null;
  const equivocators = pick !== null && allowEquivocators ? [pick] : [];
  // A seed that drew only an equivocator still draws something: a replayer.
  if (pick !== null && !allowEquivocators && !replay && !forge) replay = true;
  const faults: ByzantineFault[] = [];
  const acts = (type: "replay" | "forge") => {
    const a = agents[uniformInt(prng, n)] as AgentPlan;
    const times = 1 + uniformInt(prng, 6);
    for (let i = 0; i < times; i++)
      faults.push({
        at: Math.round(uniform(prng, a.start, Math.max(a.start, windowMs) + 1) * 10) / 10,
        type,
        agent: a.name,
        count: 1 + uniformInt(prng, 20),
      });
  };
  if (replay) acts("replay");
  if (forge) acts("forge");
  return { plan: { equivocators }, faults };
}

/**
 * The equivocator's second message for the slot of `m`, signed with `signer`, or null when it
 * does not equivocate on this kind. The twin answers the same prices (so no honest node can
 * reject it for that) with x half as large again: a demand as plausible as the first.
 */
export function twinOf(signer: Signer): (m: WireMessage) => WireMessage | null {
  return (m) => {
    if (m.kind !== "demand") return null;
    const { sig: _sig, ...unsigned } = m;
    const x = m.x > 0 ? m.x * 1.5 : 1;
    return signMessage<DemandMessage>({ ...unsigned, x } as Unsigned<DemandMessage>, signer);
  };
}

/**
 * `m` garbled under its old signature: none of these verifies, so no node may accept one. The
 * way is drawn: a later epoch (the replay of a signature into another context), another x for a
 * demand, or one character of the signature changed (still canonical base64).
 */
export function garbled(m: WireMessage, prng: Prng): WireMessage {
  const way = uniformInt(prng, 3);
  if (way === 0 && "epoch" in m) return { ...m, epoch: m.epoch + 1 } as WireMessage;
  if (way === 1 && m.kind === "demand") return { ...m, x: m.x + 0.5 };
  const first = m.sig[0] === "A" ? "B" : "A";
  return { ...m, sig: `${first}${m.sig.slice(1)}` };
}
