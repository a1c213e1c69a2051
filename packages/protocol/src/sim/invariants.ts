import type { AgentProfile } from "../economics/agent.ts";
import { convicts } from "../machine/conviction.ts";
import { planDigest } from "../machine/epoch-plan.ts";
import type { MachineAction } from "../machine/machine-io.ts";
import { type Certificate, certificateDigest, verifyCertificate } from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import { messageDigest } from "../wire/message-codec.ts";
import { slotOf, topicOf } from "../wire/messages.ts";
import { memoAudit } from "./certificate-audit.ts";
import type { NetworkEvent } from "./simulated-network.ts";

/**
 * The safety invariants of docs/protocol.md §9, checked on every event of a simulated run. They
 * read only what nodes say (their actions: epoch starts, publishes, certificates), never the
 * machine's insides, so they hold for any implementation of the protocol.
 *
 *   I1  at most one settled plan per epoch number, across all nodes (§9.5: every node adopts the
 *       same plan, so members, deciders, voters, base and terms all agree: the plan's digest);
 *   I2  no agent signs two different messages for one slot, across restarts;
 *   I3  at most one certificate per epoch (identity: the commit body's digest), across all nodes;
 *   I4  every certificate verifies offline and matches the reference solver for its members, is
 *       exact unless a fixed fee or the price ceiling excuses it, and names the members of the
 *       plan its epoch adopted (I1's record);
 *   R1  no node rejects (verdict "reject"; "ignore" is fine) a message an honest simulated agent
 *       signed and a simulated node relayed: a reject is a claim that its sender misbehaved, which
 *       an honest node never does. Injected messages and a lying member's are exempt, and so is a
 *       `price-mismatch` of a demand of an epoch an equivocator is a member of: once it split the
 *       honest nodes, each side rejects the other's demands until the proof reaches it.
 *   X1  a proven equivocator is proposed out: a node that holds a proof the protocol convicts on
 *       (protocol §5.1, conviction.ts: two valid signatures for one demand slot of its current
 *       epoch e, at the same prices) against a member of e never publishes a view-0 proposal for
 *       epoch e+1 that names that member (view 0 is the one a proposer chooses freely; a later
 *       view may have to carry a plan accepted before, Paxos).
 *       It replaces P1 ("one outcome per round"), which no protocol can promise once a member
 *       equivocates: the split happens before any node can know (docs/protocol.md §11). What is
 *       promised instead: one certificate per epoch whatever the split (I3), the equivocator
 *       proposed out once proven (X1), and the honest live agents certifying without it (liveness);
 *   E1  no node accepts two different messages for one slot (followed for equivocators' slots:
 *       honest agents sign one per slot, I2): the second is rejected as equivocation and kept as
 *       evidence (protocol §4, §5 step 10), and a reject for equivocation carries that evidence
 *       against the message's signer;
 *   F1  no node accepts a forged message (one garbled under its old signature): nobody speaks
 *       for an agent whose key it lacks (docs/security.md §2);
 *   S1  no message storm: an agent publishes at most MEMBERSHIP_RATE membership messages (join,
 *       alive, leave, epoch proposals) in any one second of virtual time. Honest traffic is a few
 *       a second (announcements every announceMs, a proposal per change of view); a livelock of
 *       re-proposals is thousands, and would also make a run cost minutes instead of milliseconds.
 *
 * Byzantine members (byzantine-member.ts) are drawn in some seeds: R1 exempts their messages (and
 * forgeries), as it does a lying member's; the rest hold whoever is Byzantine, since every
 * machine is honest and only the wire lies.
 *
 * Liveness is checked by the runner (liveness.ts): it is about time, not about one event.
 */
export type InvariantId = "I1" | "I2" | "I3" | "I4" | "R1" | "X1" | "E1" | "F1" | "S1" | "liveness";

/** Membership messages one agent may publish per virtual second before it counts as a storm. */
export const MEMBERSHIP_RATE = 100;

export const INVARIANTS: Readonly<Record<InvariantId, string>> = {
  I1: "one settled plan per epoch",
  I2: "no double-signed slot",
  I3: "one certificate per epoch",
  I4: "certificates verify and match the reference",
  R1: "no honest message rejected",
  X1: "a proven equivocator is proposed out",
  E1: "no node accepts two messages for one slot",
  F1: "no forged message accepted",
  S1: "no membership message storm",
  liveness: "live agents certify after the last fault",
};

export interface Violation {
  readonly invariant: InvariantId;
  readonly at: number;
  /** The node whose action broke it. */
  readonly node: string;
  readonly summary: string;
  /** What it conflicts with: the earlier observation, with where and when it was made. */
  readonly context: readonly string[];
}

export interface InvariantChecker {
  /** Checks every action of the event; what they violate (usually nothing). */
  observe(event: NetworkEvent): Violation[];
}

export interface CheckerConfig {
  readonly contract: Contract;
  readonly profileOf: (agent: string) => AgentProfile | undefined;
  /** A short name for an agent id, for messages. */
  readonly nameOf: (agent: string) => string;
  /**
   * Agents that sign two messages for one slot (equivocators): E1 follows their slots only. An
   * honest agent never does (I2), so no other slot can hold two messages to accept.
   */
  readonly equivocators?: ReadonlySet<string>;
}

interface Seen<T> {
  readonly value: T;
  readonly node: string;
  readonly at: number;
}

export function createInvariantChecker(config: CheckerConfig): InvariantChecker {
  const { nameOf } = config;
  const settled = new Map<number, Seen<{ digest: string; describe: string; members: string }>>();
  const signed = new Map<string, Seen<string>>();
  const certified = new Map<number, Seen<{ digest: string; describe: string }>>();
  const rate = new Map<string, { second: number; count: number }>();
  /** node -> the epoch it runs now and its members (from its last epoch-started). */
  const running = new Map<string, { epoch: number; members: ReadonlySet<AgentId> }>();
  /** node -> `${epoch} ${agent}`: the members of its epoch it holds a proof against (X1). */
  const convicted = new Map<string, Set<string>>();
  /** `${node} ${slot}` -> the digest the node accepted for an equivocator's slot. */
  const accepted = new Map<string, Seen<string>>();
  const equivocators = config.equivocators ?? new Set<string>();
  const audit = memoAudit(config.contract, config.profileOf);
  const verifyOffline = (cert: Certificate): string | null => {
    const verdict = verifyCertificate(cert, config.contract);
    return verdict.ok ? null : `does not verify offline: ${verdict.error}`;
  };
  const where = (s: Seen<unknown>) => `${s.node} at ${s.at.toFixed(1)} ms`;
  const names = (ids: readonly string[]) => `{${ids.map(nameOf).join(",")}}`;

  function onAction(a: MachineAction, node: string, at: number): Violation | null {
    if (a.type === "epoch-started") {
      const digest = planDigest(a.epoch, a.plan);
      const describe = `plan ${digest.slice(0, 12)} members ${names(a.plan.members)} voters ${names(a.plan.voters)}`;
      running.set(node, { epoch: a.epoch, members: new Set<AgentId>(a.plan.members) });
      const prior = settled.get(a.epoch);
      if (!prior)
        settled.set(a.epoch, { value: { digest, describe, members: setKey(a.plan.members) }, node, at });
      else if (prior.value.digest !== digest)
        return {
          invariant: "I1",
          at,
          node,
          summary: `epoch ${a.epoch} started with two plans`,
          context: [
            `${node} at ${at.toFixed(1)} ms: ${describe}`,
            `${where(prior)}: ${prior.value.describe}`,
          ],
        };
    } else if (a.type === "publish") {
      const m = a.message;
      const slot = slotOf(m);
      const digest = messageDigest(m);
      if (topicOf(m.kind) === "membership") {
        const second = Math.floor(at / 1000);
        const r = rate.get(m.agent);
        if (!r || r.second !== second) rate.set(m.agent, { second, count: 1 });
        else if (++r.count > MEMBERSHIP_RATE)
          return {
            invariant: "S1",
            at,
            node,
            summary: `${nameOf(m.agent)} published more than ${MEMBERSHIP_RATE} membership messages within second ${second} of the run`,
            context: [`the last: ${m.kind} for epoch ${m.epoch}`],
          };
      }
      if (m.kind === "propose" && m.view === 0) {
        const proven = convicted.get(node);
        const named = m.plan.members.find((id) => proven?.has(`${m.epoch - 1} ${id}`));
        if (named)
          return {
            invariant: "X1",
            at,
            node,
            summary: `${node} proposed epoch ${m.epoch} with ${nameOf(named)}, whom it holds a proof of equivocation against`,
            context: [`members ${names(m.plan.members)}`],
          };
      }
      const prior = signed.get(slot);
      if (!prior) signed.set(slot, { value: digest, node, at });
      else if (prior.value !== digest)
        return {
          invariant: "I2",
          at,
          node,
          summary: `${nameOf(m.agent)} signed two different messages for slot ${slot.replace(m.agent, nameOf(m.agent))}`,
          context: [
            `${node} at ${at.toFixed(1)} ms: ${digest.slice(0, 12)}`,
            `${where(prior)}: ${prior.value.slice(0, 12)}`,
          ],
        };
    } else if (a.type === "certificate") {
      return onCertificate(a.certificate, node, at);
    } else if (a.type === "equivocation") {
      // Judged by the protocol's rule itself (conviction.ts, protocol §5.1), against the epoch the
      // node said it runs: read from the proof and the node's actions, so any implementation is
      // held to it, and X1 asks for no more and no less than the rule convicts.
      const now = running.get(node);
      if (now && convicts(a.evidence, { number: now.epoch, memberSet: now.members })) {
        const set = convicted.get(node) ?? new Set<string>();
        set.add(`${now.epoch} ${a.evidence.agent}`);
        convicted.set(node, set);
      }
    }
    return null;
  }

  function onCertificate(cert: Certificate, node: string, at: number): Violation | null {
    const c = cert.commit;
    const digest = certificateDigest(cert);
    const describe = `${digest.slice(0, 12)} members ${names(c.members)} prices [${c.prices.join(", ")}]${c.approximate ? " approximate" : ""}`;
    const prior = certified.get(c.epoch);
    if (!prior) certified.set(c.epoch, { value: { digest, describe }, node, at });
    else if (prior.value.digest !== digest)
      return {
        invariant: "I3",
        at,
        node,
        summary: `two different certificates for epoch ${c.epoch}`,
        context: [`${node} at ${at.toFixed(1)} ms: ${describe}`, `${where(prior)}: ${prior.value.describe}`],
      };
    const plan = settled.get(c.epoch);
    if (!plan)
      return {
        invariant: "I4",
        at,
        node,
        summary: `certificate for epoch ${c.epoch}, which no node started`,
        context: [`${node} at ${at.toFixed(1)} ms: ${describe}`],
      };
    if (plan.value.members !== setKey(c.members))
      return {
        invariant: "I4",
        at,
        node,
        summary: `certificate for epoch ${c.epoch} names other members than the epoch's plan`,
        context: [`${node} at ${at.toFixed(1)} ms: ${describe}`, `${where(plan)}: ${plan.value.describe}`],
      };
    // An equivocator's x (its second demand's) is no best response of the profile the simulator
    // knows, so the reference equilibrium of its certificate cannot be computed: the protocol
    // promises the equilibrium of the members' *reported* demands (protocol §9.5 I4), as with a
    // lying member. Such a certificate must still verify offline and name its plan's members.
    const wrong = c.members.some((m) => equivocators.has(m)) ? verifyOffline(cert) : audit(cert);
    if (wrong)
      return {
        invariant: "I4",
        at,
        node,
        summary: `certificate for epoch ${c.epoch} ${wrong}`,
        context: [`${node} at ${at.toFixed(1)} ms: ${describe}`],
      };
    return null;
  }

  function onDelivery(event: Extract<NetworkEvent, { type: "deliver" }>): Violation | null {
    const { verdict, message: m } = event;
    const node = event.node.name;
    const heard = `${node}<${event.from}${event.via === "sync" ? " (sync)" : ""}`;
    if (event.forged && verdict.verdict === "accept")
      return {
        invariant: "F1",
        at: event.at,
        node,
        summary: `${node} accepted a forged ${m.kind} of ${nameOf(m.agent)} for epoch ${"epoch" in m ? m.epoch : "-"} (${heard})`,
        context: [`sig ${m.sig.slice(0, 16)}…, digest ${messageDigest(m).slice(0, 12)}`],
      };
    if (equivocators.has(m.agent)) {
      if (
        verdict.verdict === "reject" &&
        verdict.reason === "equivocation" &&
        verdict.evidence?.agent !== m.agent
      )
        return {
          invariant: "E1",
          at: event.at,
          node,
          summary: `${node} rejected ${nameOf(m.agent)}'s ${m.kind} as equivocation without evidence against ${nameOf(m.agent)}`,
          context: [verdict.detail],
        };
      // A message of a later epoch than the node runs is only held (protocol §5): a full hold
      // queue evicts it and forgets its slot, so another version may be accepted later; only the
      // one the node applies counts (seed 6017: a lagging joiner held the twin, evicted it, and
      // accepted the original by sync).
      const held = "epoch" in m && m.kind !== "join" && m.epoch > (running.get(node)?.epoch ?? -1);
      if (verdict.verdict === "accept" && !held) {
        const key = `${node} ${slotOf(m)}`;
        const digest = messageDigest(m);
        const prior = accepted.get(key);
        if (!prior) accepted.set(key, { value: digest, node, at: event.at });
        else if (prior.value !== digest)
          return {
            invariant: "E1",
            at: event.at,
            node,
            summary: `${node} accepted two different messages of ${nameOf(m.agent)} for slot ${slotOf(m).replace(m.agent, nameOf(m.agent))}`,
            context: [
              `${heard} at ${event.at.toFixed(1)} ms: ${digest.slice(0, 12)}`,
              `${where(prior)}: ${prior.value.slice(0, 12)}`,
            ],
          };
      }
    }
    if (verdict.verdict !== "reject" || !event.honestAuthor) return null;
    if (verdict.reason === "price-mismatch" && m.kind === "demand" && splittable(m.epoch)) return null;
    return {
      invariant: "R1",
      at: event.at,
      node: event.node.name,
      summary: `${event.node.name} rejected ${nameOf(m.agent)}'s ${m.kind} for epoch ${m.epoch} (${event.via} from ${event.from}): ${verdict.reason}`,
      context: [verdict.detail],
    };
  }

  /** An equivocator is a member of epoch `epoch` (as its plan settled): its demands can split it. */
  const splittable = (epoch: number): boolean => {
    const plan = settled.get(epoch);
    return plan?.value.members.split(",").some((id) => equivocators.has(id)) === true;
  };

  return {
    observe(event) {
      let actions: readonly MachineAction[];
      switch (event.type) {
        case "deliver":
        case "tick":
        case "leave":
          actions = event.actions;
          break;
        case "restart":
          actions = [...event.replayed, ...event.actions];
          break;
        default:
          return [];
      }
      const found: Violation[] = [];
      if (event.type === "deliver") {
        const v = onDelivery(event);
        if (v) found.push(v);
      }
      for (const a of actions) {
        const v = onAction(a, event.node.name, event.at);
        if (v) found.push(v);
      }
      return found;
    },
  };
}

/** A member set's identity, whatever order it is listed in. */
function setKey(ids: readonly string[]): string {
  return [...ids].sort().join(",");
}
