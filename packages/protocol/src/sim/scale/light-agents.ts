import type { AgentProfile } from "../../economics/agent.ts";
import { bestResponse } from "../../economics/best-response.ts";
import type { Prng } from "../../random/prng.ts";
import type { Signer } from "../../wire/agent-key.ts";
import { type CommitBody, commitBody } from "../../wire/certificate.ts";
import type { Contract } from "../../wire/contract.ts";
import type { ContractId } from "../../wire/ids.ts";
import {
  type CommitMessage,
  type DemandMessage,
  type JoinMessage,
  PROTOCOL_VERSION,
} from "../../wire/messages.ts";
import { signMessage } from "../../wire/signing.ts";

/**
 * The agents a reduced scale run does not simulate as machines. Each signs the messages an
 * honest member would — its join, its demand at each round's prices (the real best response, from
 * its previous x, as the machine's market computes it), its commit of the epoch's body — and
 * publishes each when its own modelled node would: once it has handled, one at a time at the
 * modelled CPU cost, every message of the batch that precedes it (the joins and the epoch's
 * decision before round 0; round k's demands before round k + 1; the last round's demands
 * before the commit), each arriving at its publication time plus a delay of the model.
 *
 * What this does not model: a light agent handles batches in order, so a message of the next
 * batch that arrives before it finished the current one is handled after it, not in between
 * (a machine handles strictly by arrival); and it sends a join once (a machine re-announces
 * until it is included) and no heartbeats.
 */
export interface LightAgent {
  readonly name: string;
  readonly signer: Signer;
  readonly profile: AgentProfile;
  /** When its node's CPU is free again. */
  busyUntil: number;
  /** Its last reported x: the proximal best response starts from it. */
  lastX: number | undefined;
}

/** A message published in the run, for the light agents' queues: when, and by which light agent (-1: a machine). */
export interface Published {
  readonly at: number;
  readonly by: number;
}

export function joinOf(agent: LightAgent, contract: ContractId): JoinMessage {
  return signMessage<JoinMessage>(
    { v: PROTOCOL_VERSION, kind: "join", contract, agent: agent.signer.id, epoch: 0, seq: 1 },
    agent.signer,
  );
}

export function demandOf(
  agent: LightAgent,
  terms: Contract,
  contract: ContractId,
  at: { readonly epoch: number; readonly round: number; readonly prices: readonly number[] },
): DemandMessage {
  const d = bestResponse(agent.profile, terms, at.prices, agent.lastX);
  const message = signMessage<DemandMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "demand",
      contract,
      agent: agent.signer.id,
      epoch: at.epoch,
      round: at.round,
      prices: [...at.prices],
      x: d.x,
      slope: d.slope,
      footprint: agent.profile.footprint,
    },
    agent.signer,
  );
  agent.lastX = message.x;
  return message;
}

/** The commit a member signs once its rounds settle on `like`'s body (every honest member settles alike). */
export function commitOf(agent: LightAgent, like: CommitMessage): CommitMessage {
  const body: CommitBody = commitBody(like);
  return signMessage<CommitMessage>({ ...body, agent: agent.signer.id }, agent.signer);
}

/**
 * When light agent `index` has handled every message of `batch`: each arrives at its publication
 * time plus a delay drawn in [min, max] (its own messages need no delivery), and is handled in
 * arrival order at `cost` ms each from when the agent is free.
 */
export function handledBy(
  agent: LightAgent,
  index: number,
  batch: readonly Published[],
  delay: { readonly min: number; readonly max: number },
  cost: number,
  prng: Prng,
): number {
  const arrivals = new Float64Array(batch.length);
  let n = 0;
  for (const p of batch)
    if (p.by !== index) arrivals[n++] = p.at + delay.min + prng() * (delay.max - delay.min);
  const sorted = arrivals.subarray(0, n).sort();
  let free = agent.busyUntil;
  for (const a of sorted) free = Math.max(a, free) + cost;
  agent.busyUntil = free;
  return free;
}
