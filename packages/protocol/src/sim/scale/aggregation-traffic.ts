import type { Signer } from "../../wire/agent-key.ts";
import { canonicalBytes } from "../../wire/canonical-json.ts";
import { compareIds } from "../../wire/ids.ts";
import type { DemandMessage } from "../../wire/messages.ts";
import { buildAggregate, committeeTree } from "./committee-aggregate.ts";

/**
 * What a round costs a node under the committee aggregation of docs/scaling.md §2, from the
 * encoded sizes of real messages: a member receives its committee's demands and, from every
 * committee, the aggregates of its k aggregators. The aggregate is built as the design specifies
 * — header, epoch, round, committee, participation bitfield, the committee's sums S_c (R numbers),
 * J_c (R × R), L_c, and the Merkle-sum root — from the committee's real demands, summed in id
 * order, and signed; its size is its canonical encoding with the signature.
 */
export interface AggregationTraffic {
  readonly committees: number;
  readonly committeeSize: number;
  readonly aggregators: number;
  readonly demandBytes: number;
  readonly aggregateBytes: number;
  /** A member's inclusion proof (its Merkle-sum path, the deepest in the committee), encoded. */
  readonly proofBytes: number;
  /** Per member per round. */
  readonly messages: number;
  readonly bytes: number;
}

export function aggregationTraffic(options: {
  readonly agents: number;
  readonly committeeSize: number;
  readonly aggregators: number;
  readonly framingBytes: number;
  /** Real demands of one round (any number): sizes and sums are taken from them. */
  readonly demands: readonly DemandMessage[];
  readonly signer: Signer;
}): AggregationTraffic {
  const { agents, committeeSize, aggregators, framingBytes, demands, signer } = options;
  const first = demands[0];
  if (!first) throw new RangeError("aggregationTraffic needs at least one demand");
  const committees = Math.ceil(agents / committeeSize);
  const size = Math.min(committeeSize, agents);
  const committee = demands.slice(0, size);
  const ordered = [...committee].sort((a, b) => compareIds(a.agent, b.agent));
  const members = ordered.map((d) => d.agent);
  const aggregate = buildAggregate({
    contract: first.contract,
    epoch: first.epoch,
    round: first.round,
    committee: committees - 1,
    members,
    demands: committee,
    signer,
    resources: first.prices.length,
  });
  const tree = committeeTree(ordered);
  if (!tree) throw new RangeError("aggregationTraffic needs at least one demand");
  const aggregateBytes = canonicalBytes(aggregate).length + framingBytes;
  const demandBytes =
    committee.reduce((s, d) => s + canonicalBytes(d).length, 0) / committee.length + framingBytes;
  const proof = tree.proof(committee.length - 1);
  const proofBytes =
    canonicalBytes({ leaf: committee.length - 1, root: tree.root.hash, proof }).length + framingBytes;
  const messages = size - 1 + committees * aggregators;
  return {
    committees,
    committeeSize: size,
    aggregators,
    demandBytes,
    aggregateBytes,
    proofBytes,
    messages,
    bytes: (size - 1) * demandBytes + committees * aggregators * aggregateBytes,
  };
}
