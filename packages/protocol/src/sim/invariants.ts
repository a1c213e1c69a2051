import type { AgentProfile } from "../economics/agent.ts";
import { planDigest } from "../machine/epoch-plan.ts";
import type { MachineAction } from "../machine/machine-io.ts";
import { type Certificate, certificateDigest } from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";
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
 *       an honest node never does. Injected messages and a lying member's are exempt.
 *   S1  no message storm: an agent publishes at most MEMBERSHIP_RATE membership messages (join,
 *       alive, leave, epoch proposals) in any one second of virtual time. Honest traffic is a few
 *       a second (announcements every announceMs, a proposal per change of view); a livelock of
 *       re-proposals is thousands, and would also make a run cost minutes instead of milliseconds.
 *
 * Liveness is checked by the runner (liveness.ts): it is about time, not about one event.
 */
export type InvariantId = "I1" | "I2" | "I3" | "I4" | "R1" | "S1" | "liveness";

/** Membership messages one agent may publish per virtual second before it counts as a storm. */
export const MEMBERSHIP_RATE = 100;

export const INVARIANTS: Readonly<Record<InvariantId, string>> = {
  I1: "one settled plan per epoch",
  I2: "no double-signed slot",
  I3: "one certificate per epoch",
  I4: "certificates verify and match the reference",
  R1: "no honest message rejected",
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
  const audit = memoAudit(config.contract, config.profileOf);
  const where = (s: Seen<unknown>) => `${s.node} at ${s.at.toFixed(1)} ms`;
  const names = (ids: readonly string[]) => `{${ids.map(nameOf).join(",")}}`;

  function onAction(a: MachineAction, node: string, at: number): Violation | null {
    if (a.type === "epoch-started") {
      const digest = planDigest(a.epoch, a.plan);
      const describe = `plan ${digest.slice(0, 12)} members ${names(a.plan.members)} voters ${names(a.plan.voters)}`;
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
    const wrong = audit(cert);
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
    if (verdict.verdict !== "reject" || !event.honestAuthor) return null;
    return {
      invariant: "R1",
      at: event.at,
      node: event.node.name,
      summary: `${event.node.name} rejected ${nameOf(m.agent)}'s ${m.kind} for epoch ${m.epoch} (${event.via} from ${event.from}): ${verdict.reason}`,
      context: [verdict.detail],
    };
  }

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
