import {
  type Certificate,
  type Contract,
  certificateDigest,
  contractId,
  type MachineStatus,
} from "@walras/protocol";
import type { CertifiedEpoch } from "./actions/action-executor.ts";

/** What `GET /status` returns: the machine's view keyed by resource and agent ids for people. */
export interface NodeStatus {
  readonly peerId: string;
  readonly role: "agent" | "observer";
  readonly contractId: string;
  readonly contractName: string;
  readonly status: MachineStatus["status"];
  readonly epoch: number | null;
  readonly round: number | null;
  readonly prices: Record<string, number>;
  readonly residual: number | null;
  readonly agreement: MachineStatus["agreement"];
  readonly member: boolean;
  readonly members: readonly string[];
  /** Who decides the next epoch (members are promoted to voters once they have bid, protocol §9.1). */
  readonly voters: readonly string[];
  readonly allocation: number | null;
  readonly peers: number;
  readonly topicPeers: number;
  readonly listen: readonly string[];
  readonly pendingJoins: readonly string[];
  /** The decision for the next epoch while one is under way (its view climbs when proposers fail). */
  readonly decision: MachineStatus["decision"];
  readonly founder: boolean;
  readonly certificate: CertificateSummary | null;
  /** The last few epochs this node held a certificate of, in the order it first held them. */
  readonly certified: readonly CertifiedEpoch[];
  readonly equivocations: readonly { agent: string; slot: string; first: unknown; second: unknown }[];
}

export interface CertificateSummary {
  readonly digest: string;
  readonly epoch: number;
  readonly round: number;
  readonly members: readonly string[];
  readonly signers: number;
  readonly prices: Record<string, number>;
  readonly allocations: Record<string, number>;
  readonly residual: number;
  /**
   * When this node first held a certificate of this epoch (ms since 1970, its own clock; null when
   * it no longer remembers): the time a network reached agreement, read without polling's delay.
   */
  readonly heldSince: number | null;
}

export function summarizeCertificate(
  contract: Contract,
  cert: Certificate,
  heldSince: number | null,
): CertificateSummary {
  return {
    digest: certificateDigest(cert),
    epoch: cert.commit.epoch,
    round: cert.commit.round,
    members: cert.commit.members,
    signers: cert.signatures.length,
    prices: byResource(contract, cert.commit.prices),
    allocations: Object.fromEntries(cert.commit.allocations.map((a) => [a.agent, a.x])),
    residual: cert.commit.residual,
    heldSince,
  };
}

export function byResource(contract: Contract, prices: readonly number[]): Record<string, number> {
  return Object.fromEntries(contract.resources.map((r, i) => [r.id, prices[i] ?? 0]));
}

export function nodeStatus(input: {
  peerId: string;
  contract: Contract;
  machine: MachineStatus;
  connections: number;
  topicPeers: number;
  listen: readonly string[];
  /** The last few epochs this node held a certificate of (the executor's record). */
  certified: readonly CertifiedEpoch[];
}): NodeStatus {
  const m = input.machine;
  return {
    peerId: input.peerId,
    role: m.agent ? "agent" : "observer",
    contractId: contractId(input.contract),
    contractName: input.contract.name,
    status: m.status,
    epoch: m.epoch,
    round: m.round,
    prices: byResource(input.contract, m.prices),
    residual: m.residual,
    agreement: m.agreement,
    member: m.member,
    members: m.members,
    voters: m.voters,
    allocation: m.allocation,
    peers: input.connections,
    topicPeers: input.topicPeers,
    listen: input.listen,
    pendingJoins: m.pendingJoins,
    decision: m.decision,
    founder: m.founder,
    certificate: m.certificate
      ? summarizeCertificate(
          input.contract,
          m.certificate,
          input.certified.find((c) => c.epoch === m.certificate?.commit.epoch)?.heldSince ?? null,
        )
      : null,
    certified: input.certified,
    equivocations: m.equivocations.map((e) => ({
      agent: e.agent,
      slot: e.slot,
      first: e.first,
      second: e.second,
    })),
  };
}
