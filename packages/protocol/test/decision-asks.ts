import { expect } from "vitest";
import type { AgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import type { EpochPlan, WireMessage } from "../src/wire/messages.ts";
import { handBuiltMarket, soloFoundingPlan, sortedIds } from "./decision-messages.ts";

/**
 * A node that knows no epoch, driven tick by tick while its asks for the current decision are
 * answered by hand (docs/protocol.md §9.3): the market, a stranger's message and a real network's
 * decisions the founding-gate and ask-pace tests share.
 */

export const { contract, propose } = handBuiltMarket("founding gate");

export const key = (i: number): Signer => createSigner(new Uint8Array(32).fill(i));

/** A stranger's throwaway key proposes itself as epoch 3's only member and decider. */
export const stranger = key(30);
export const strangerPlan: EpochPlan = {
  members: sortedIds(stranger),
  deciders: sortedIds(stranger),
  voters: sortedIds(stranger),
  base: { epoch: 2, round: 0, prices: [0.125] },
  terms: null,
  ledger: null,
  cause: ["join"],
};
export const strangersMessage = propose(3, strangerPlan, stranger);

/** A real network: epoch 0 founded by key 1, epoch 1 of keys 1 and 2 (the founder decides alone). */
const realFounder = key(1);
const realMember = key(2);
export const grown: EpochPlan = {
  members: sortedIds(realFounder, realMember),
  deciders: sortedIds(realFounder),
  voters: sortedIds(realFounder, realMember),
  base: { epoch: 0, round: 0, prices: [0.125] },
  terms: null,
  ledger: null,
  cause: ["join"],
};
export const realChain: WireMessage[] = [
  propose(0, soloFoundingPlan(realFounder), realFounder),
  propose(1, grown, realFounder),
];

/** `m` reaches `machine` by gossip before it has an epoch: ignored as `unasked`. */
export function gossip(machine: AgentMachine, m: WireMessage): void {
  const verdict = machine.check(m, { gossip: true });
  expect(verdict).toMatchObject({ verdict: "ignore", reason: "unasked" });
}

/** How many requests for a decision these actions make. */
export const asks = (actions: readonly MachineAction[]): number =>
  actions.filter((a) => a.type === "sync" && a.want.type === "decision").length;

/** Two joiners as new as the founder take turns answering. */
export const twoPeers = (ask: number): string => `joiner-${ask % 2}`;

/**
 * Runs `machine` tick by tick from `from` until `until`; each of its asks for the current decision is
 * answered by `answer` (its messages, none: an answer without a decision, or `lost`), from
 * `peerOf`'s peer. Returns every action.
 */
export function run(
  machine: AgentMachine,
  until: number,
  answer: (ask: number) => readonly WireMessage[] | "lost",
  peerOf: (ask: number) => string = twoPeers,
  from = 0,
): MachineAction[] {
  const all: MachineAction[] = [];
  let pending: readonly MachineAction[] = [];
  let asked = 0;
  let now = from;
  for (let guard = 0; guard < 100_000; guard++) {
    for (const a of pending) {
      if (a.type !== "sync" || a.want.type !== "decision" || a.want.epoch !== null) continue;
      const peer = peerOf(asked);
      const got = answer(asked++);
      if (got === "lost") continue;
      if (got.length === 0) all.push(...machine.handle({ type: "no-decision", now, peer }));
      for (const m of got)
        if (machine.check(m).verdict === "accept")
          all.push(...machine.handle({ type: "message", now, message: m }));
    }
    now = Math.max(now, machine.nextDeadline());
    if (now > until) return all;
    pending = machine.handle({ type: "tick", now });
    all.push(...pending);
  }
  throw new Error("the machine never went idle");
}
