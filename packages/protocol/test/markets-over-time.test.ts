import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { type Certificate, certificateDigest, verifyCertificate } from "../src/wire/certificate.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import { buildLedger, type Ledger, verifyLedger } from "../src/wire/ledger.ts";
import type { AmendMessage, ApproveMessage } from "../src/wire/messages.ts";
import { amendTerms } from "../src/wire/terms.ts";

/** docs/protocol.md §12 on simulated networks: new bids, periodic slots, amendments, the chain. */
function contract(over: Record<string, unknown> = {}): Contract {
  return contractSchema.parse({
    name: "slots",
    resources: [{ id: "cpu", capacity: 6 }],
    fees: { perUnit: 0.5, fixed: 0 },
    minMembers: 4,
    timeouts: { roundMs: 2000, announceMs: 200 },
    ...over,
  });
}

function market(c: Contract, profiles: readonly AgentProfile[], seed: number) {
  const net = new SimulatedNetwork({ contract: c, seed });
  const nodes = profiles.map((p, i) => net.addAgent(`n${i}`, p));
  return { net, nodes, profiles: [...profiles] };
}

/** Runs until every node holds the same certificate for an epoch after `after`; returns it. */
function waitCertifiedAfter(
  net: SimulatedNetwork,
  nodes: readonly SimNode[],
  after: number,
  limitMs = 60_000,
): Certificate {
  let found: Certificate | null = null;
  net.runUntil(() => {
    found = certifiedAfter(nodes, after);
    return found !== null;
  }, limitMs);
  if (!found) throw new Error(`no common certificate after epoch ${after} within ${limitMs} ms`);
  return found;
}

/**
 * The market settled: the first epoch (voted by its founder alone) is certified, and so is the
 * epoch that promotes every member that bid to voter. Tests of later slots start from here.
 */
function settled(net: SimulatedNetwork, nodes: readonly SimNode[]): Certificate {
  const first = waitCertifiedAfter(net, nodes, -1);
  return waitCertifiedAfter(net, nodes, first.commit.epoch);
}

/** Every node holds a certificate for an epoch after `after`, the same one. */
function certifiedAfter(nodes: readonly SimNode[], after: number): Certificate | null {
  const certs = nodes.map((n) => n.machine.status().certificate);
  const first = certs[0];
  if (!first || first.commit.epoch <= after) return null;
  return certs.every((c) => c && certificateDigest(c) === certificateDigest(first)) ? first : null;
}

function expectReference(
  c: Contract,
  cert: Certificate,
  nodes: readonly SimNode[],
  profiles: readonly AgentProfile[],
) {
  const ref = solveReference(
    scenarioSchema.parse({ contract: c, agents: nodes.map((n, i) => ({ id: n.id, ...profiles[i] })) }),
  );
  ref.prices.forEach((p, r) => {
    expect(Math.abs((cert.commit.prices[r] as number) - p)).toBeLessThan(1e-6 * Math.max(1, p));
  });
  for (const a of cert.commit.allocations) {
    const x = ref.allocations.find((r) => r.agent === a.agent)?.x as number;
    expect(Math.abs(a.x - x)).toBeLessThan(1e-6 * Math.max(1, x));
  }
}

describe("markets over time (simulated)", () => {
  it("a member's new bid opens a new slot, certified at the reference equilibrium of the new bids, linked to the last", () => {
    const c = contract();
    const { net, nodes, profiles } = market(c, paperProfiles(4, 3), 1);
    const first = waitCertifiedAfter(net, nodes, -1);
    expect(first.commit.previous).toBeNull();
    const before = waitCertifiedAfter(net, nodes, first.commit.epoch);
    expect(before.commit.previous).toBe(certificateDigest(first));

    const richer: AgentProfile = { ...(profiles[2] as AgentProfile), valuation: { kind: "log", alpha: 30 } };
    profiles[2] = richer;
    net.act(nodes[2] as SimNode, (now) => ({ type: "profile", now, profile: richer }));
    const after = waitCertifiedAfter(net, nodes, before.commit.epoch);
    expect(after.commit.previous).toBe(certificateDigest(before));
    expect(verifyCertificate(after, c)).toMatchObject({ ok: true });
    expectReference(c, after, nodes, profiles);
    expect(after.commit.prices[0]).toBeGreaterThan(before.commit.prices[0] as number);
  });

  it("with a period, slots re-clear on schedule, warm-started from the last prices, each linked to the one before", () => {
    const c = contract({ period: { ms: 3000 } });
    const { net, nodes, profiles } = market(c, paperProfiles(4, 5), 2);
    const chain: Certificate[] = [settled(net, nodes)];
    const t0 = net.now;
    expect(
      net.runUntil(() => {
        const cert = certifiedAfter(nodes, chain.at(-1)?.commit.epoch ?? -1);
        if (cert) chain.push(cert);
        return chain.length >= 4;
      }, 60_000),
    ).toBe(true);
    // Three more slots in about three periods: no clock runs ahead of the others by much.
    expect(net.now - t0).toBeGreaterThan(3 * 3000 - 1000);
    for (let i = 1; i < chain.length; i++)
      expect(chain[i]?.commit.previous).toBe(certificateDigest(chain[i - 1] as Certificate));
    // Nothing changed between slots: each later slot starts at the equilibrium and converges at once.
    for (const cert of chain.slice(1)) expect(cert.commit.round).toBeLessThanOrEqual(2);
    expectReference(c, chain.at(-1) as Certificate, nodes, profiles);
  });

  it("an amendment approved by a quorum changes the capacity at the next slot; certificates name the new terms", () => {
    const c = contract();
    const { net, nodes, profiles } = market(c, paperProfiles(4, 7), 3);
    const before = settled(net, nodes);
    const terms = amendTerms(c, contractId(c), { capacities: { cpu: 3 } });
    const id = contractId(terms);
    net.act(nodes[0] as SimNode, (now) => ({ type: "amend", now, terms }));
    net.runUntil(() => false, 500);
    // One approval is not yet a quorum of 4 (3 needed): the terms stay.
    net.act(nodes[1] as SimNode, (now) => ({ type: "approve", now, amendment: id }));
    net.runUntil(() => false, 3000);
    expect(nodes[0]?.machine.terms().id).toBe(contractId(c));
    expect(nodes[0]?.machine.amendments()[0]).toMatchObject({ id, needed: 3 });
    net.act(nodes[2] as SimNode, (now) => ({ type: "approve", now, amendment: id }));
    const after = waitCertifiedAfter(net, nodes, before.commit.epoch);
    expect(after.commit.terms).toBe(id);
    expect(after.commit.previous).toBe(certificateDigest(before));
    expect(verifyCertificate(after, terms)).toMatchObject({ ok: true });
    expect(verifyCertificate(after, c).ok).toBe(false);
    expectReference(terms, after, nodes, profiles);
    expect(nodes.every((n) => n.machine.terms().id === id)).toBe(true);
  });

  it("the ledger of a market with an amendment verifies offline, and any tampering names the bad entry", () => {
    const c = contract();
    const { net, nodes } = market(c, paperProfiles(4, 11), 4);
    const cert = settled(net, nodes);
    const terms = amendTerms(c, contractId(c), { capacities: { cpu: 4 }, perUnit: 0.75 });
    const id = contractId(terms);
    net.act(nodes[1] as SimNode, (now) => ({ type: "amend", now, terms }));
    net.runUntil(() => false, 300);
    for (const n of [nodes[2], nodes[3]])
      net.act(n as SimNode, (now) => ({ type: "approve", now, amendment: id }));
    expect(
      net.runUntil(() => {
        const now = certifiedAfter(nodes, cert.commit.epoch);
        return now !== null && now.commit.terms === id;
      }, 60_000),
    ).toBe(true);
    const node = nodes[0] as SimNode;
    const latest = node.machine.status().certificate as Certificate;
    const ledger: Ledger = buildLedger({
      contract: c,
      certificates: node.machine.certificates(),
      tip: certificateDigest(latest),
      amendments: new Map([
        [id, { terms, signatures: node.machine.amendmentEvidence(id) as (AmendMessage | ApproveMessage)[] }],
      ]),
    });
    // The founding slot, the slot that promoted every bidder to voter, the amendment, the amended slot.
    expect(ledger.entries.map((e) => e.type)).toEqual([
      "certificate",
      "certificate",
      "amendment",
      "certificate",
    ]);
    expect(verifyLedger(ledger, c)).toMatchObject({ ok: true, certificates: 3, amendments: 1 });
    // The chain is walked from the tip back and then reversed: oldest first, whatever order the
    // certificates are held in.
    const epochs = ledger.entries.flatMap((e) =>
      e.type === "certificate" ? [e.certificate.commit.epoch] : [],
    );
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
    expect(
      buildLedger({
        contract: c,
        certificates: [...node.machine.certificates()].reverse(),
        tip: certificateDigest(latest),
        amendments: new Map([
          [
            id,
            { terms, signatures: node.machine.amendmentEvidence(id) as (AmendMessage | ApproveMessage)[] },
          ],
        ]),
      }),
    ).toEqual(ledger);
    // Through JSON, as `ledger export` writes it and `ledger verify` reads it.
    expect(verifyLedger(JSON.parse(JSON.stringify(ledger)), c).ok).toBe(true);
    // Without the amendment the ledger stops before the amended slot: charged under the terms
    // before, it would be wrong (and fail the verifier).
    const short = buildLedger({
      contract: c,
      certificates: node.machine.certificates(),
      tip: certificateDigest(latest),
      amendments: new Map(),
    });
    expect(short.entries).toEqual(ledger.entries.slice(0, 2));

    // A JSON copy to edit as an attacker would: typed loosely on purpose.
    interface Loose {
      charges: { members: { total: number }[] };
      certificate: { commit: { previous: string | null; prices: number[] } };
      signatures: unknown[];
    }
    const edit = (f: (entries: Loose[]) => void): Ledger => {
      const copy = JSON.parse(JSON.stringify(ledger));
      f(copy.entries);
      return copy;
    };
    const charge = verifyLedger(
      edit((e) => {
        (e[3] as Loose).charges.members[0] = { total: 1 };
      }),
      c,
    );
    expect(charge).toMatchObject({ ok: false, index: 3 });
    expect(charge.ok ? "" : charge.error).toMatch(/charges/);
    const link = verifyLedger(
      edit((e) => {
        (e[3] as Loose).certificate.commit.previous = "0".repeat(64);
      }),
      c,
    );
    expect(link).toMatchObject({ ok: false, index: 3 });
    const forged = verifyLedger(
      edit((e) => {
        (e[0] as Loose).certificate.commit.prices = [9];
      }),
      c,
    );
    expect(forged).toMatchObject({ ok: false, index: 0 });
    const vote = verifyLedger(
      edit((e) => {
        (e[2] as Loose).signatures.splice(1);
      }),
      c,
    );
    expect(vote).toMatchObject({ ok: false, index: 2 });
    expect(vote.ok ? "" : vote.error).toMatch(/quorum/);
    const dropped = verifyLedger(
      edit((e) => {
        e.splice(2, 1);
      }),
      c,
    );
    expect(dropped).toMatchObject({ ok: false, index: 2 });
  });
});
