import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import { proposerOf } from "../src/machine/epoch-plan.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import { certificateDigest } from "../src/wire/certificate.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import type { Digest } from "../src/wire/ids.ts";
import {
  type EpochPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";
import { oneResourceMarket, settled } from "./settled-market.ts";

/**
 * docs/protocol.md §12: a plan's `ledger` is what the acceptor's own chain says it is. One member
 * key as proposer re-signs its proposals with a made-up link and sends them to half its peers (the
 * reviewer's repro, finding 4): no honest member may sign a commit whose `previous` is that link.
 */
const FORGED = "e".repeat(64) as Digest;

describe("a proposer's forged ledger link", () => {
  it("is never signed into an honest commit, and the chain stays whole", () => {
    const c = contractSchema.parse({
      name: "slots",
      resources: [{ id: "cpu", capacity: 6 }],
      fees: { perUnit: 0.5, fixed: 0 },
      minMembers: 4,
      timeouts: { roundMs: 2000, announceMs: 200 },
      period: { ms: 3000 },
    });
    const net = new SimulatedNetwork({ contract: c, seed: 2 });
    const profiles = paperProfiles(4, 7);
    const forger = net.newSigner();
    const forge = (m: WireMessage): WireMessage | null => {
      if (m.kind !== "propose" || m.epoch < 3) return null;
      const { sig: _sig, ...unsigned } = m;
      const plan = { ...m.plan, ledger: FORGED };
      return signMessage<ProposeMessage>({ ...unsigned, plan } as Unsigned<ProposeMessage>, forger);
    };
    const nodes: SimNode[] = profiles.map((p, i) =>
      i === 2 ? net.addAgent(`n${i}`, p, forger, undefined, undefined, forge) : net.addAgent(`n${i}`, p),
    );
    net.runUntil(() => false, 90_000);
    const honest = nodes.filter((_, i) => i !== 2);
    // A node may miss a slot's certificate (it certified elsewhere); the honest nodes' together
    // hold every link.
    const held = new Set(honest.flatMap((n) => n.machine.certificates().map(certificateDigest)));
    for (const node of honest) {
      const chain = node.machine.certificates();
      // Slots kept coming: the forger stalls nothing for good.
      expect(chain.length).toBeGreaterThan(15);
      expect(chain.filter((cert) => cert.commit.previous === FORGED)).toEqual([]);
      for (const cert of chain.slice(1)) expect(held.has(cert.commit.previous as Digest)).toBe(true);
    }
  });
});

/**
 * One decider's machine, rebuilt from a settled market's store without its demands or commits: it
 * adopted the current epoch e but never settled it, and holds no certificate of e. Fed a proposal
 * for e+1 from the view's proposer, linking to e's certificate.
 */
function deciderWithoutCertificate() {
  const MEMBERS = 4;
  const c = oneResourceMarket("link", MEMBERS, 8, { roundMs: 2_000, announceMs: 500 });
  const net = new SimulatedNetwork({ contract: c, seed: 5, delay: { min: 1, max: 40 } });
  const signers = [0, 1, 2, 3].map(() => net.newSigner());
  const nodes = paperProfiles(MEMBERS, 3).map((p, i) => net.addAgent(`n${i}`, p, signers[i]));
  const source = nodes[0] as SimNode;
  const certifiesItsEpoch = () =>
    source.machine.status().certificate?.commit.epoch === source.machine.status().epoch;
  expect(net.runUntil(() => settled(nodes, MEMBERS)() && certifiesItsEpoch(), 120_000)).toBe(true);
  const e = source.machine.status().epoch as number;
  const cert = source.machine.certificates().find((x) => x.commit.epoch === e);
  if (!cert) throw new Error(`epoch ${e} is not certified at n0`);
  const plan = planOf(source, e);
  const proposer = proposerOf(e + 1, 0, plan.voters);
  const me = signers.find((s) => s.id !== proposer && plan.voters.includes(s.id)) as Signer;
  const profile = paperProfiles(MEMBERS, 3)[signers.indexOf(me)] as AgentProfile;
  let now = net.now;
  const decider = createAgentMachine({ contract: c, now, signer: me, profile });
  const feed = (message: WireMessage): MachineAction[] => decider.handle({ type: "message", now, message });
  for (const m of source.store) if (m.kind !== "demand" && m.kind !== "commit") feed(m);
  expect(decider.status().epoch).toBe(e);
  expect(decider.certificates().some((x) => x.commit.epoch === e)).toBe(false);
  const propose = (ledger: Digest | null): ProposeMessage =>
    signMessage<ProposeMessage>(
      {
        v: PROTOCOL_VERSION,
        kind: "propose",
        contract: contractId(c),
        agent: proposer,
        epoch: e + 1,
        view: 0,
        plan: {
          ...plan,
          deciders: plan.voters,
          base: { epoch: e, round: 0, prices: [1] },
          ledger,
          cause: ["renew"],
        },
      },
      signers.find((s) => s.id === proposer) as Signer,
    );
  const commits = source.store.filter((m) => m.kind === "commit" && m.epoch === e);
  const tick = (ms: number): MachineAction[] => {
    now += ms;
    return decider.handle({ type: "tick", now });
  };
  return { e, cert, decider, feed, propose, commits, tick, me };
}

/** The plan of epoch `e` as `node` adopted it. */
function planOf(node: { machine: AgentMachine } | AgentMachine, e: number): EpochPlan {
  const machine = "machine" in node ? node.machine : node;
  const proposal = machine.decisionEvidence(e)?.find((m) => m.kind === "propose");
  if (proposal?.kind !== "propose") throw new Error(`no proposal of epoch ${e} held`);
  return proposal.plan;
}

const accepts = (actions: readonly MachineAction[]) =>
  actions.filter((a) => a.type === "publish" && a.message.kind === "accept");

describe("an acceptor judging a plan's ledger link (docs/protocol.md §12)", () => {
  it("holds back a link to a certificate it lacks, asks for the epoch's commits, and accepts once they make it", () => {
    const { e, cert, decider, feed, propose, commits, tick } = deciderWithoutCertificate();
    expect(planOf(decider, e).ledger).not.toBe(certificateDigest(cert));
    const held = feed(propose(certificateDigest(cert)));
    expect(accepts(held)).toEqual([]);
    const asked = [...held, ...tick(1_000)].filter(
      (a) =>
        a.type === "sync" &&
        a.want.type === "messages" &&
        a.want.epoch === e &&
        a.want.kinds.includes("commit"),
    );
    expect(asked.length).toBeGreaterThan(0);
    const after = commits.flatMap((m) => feed(m));
    expect(accepts(after)).toHaveLength(1);
  });

  it("never accepts a made-up link, before or after it holds the certificate", () => {
    const { decider, feed, propose, commits, tick, e } = deciderWithoutCertificate();
    const out = [
      ...feed(propose(FORGED)),
      ...tick(1_000),
      ...commits.flatMap((m) => feed(m)),
      ...tick(1_000),
    ];
    expect(decider.certificates().some((x) => x.commit.epoch === e)).toBe(true);
    expect(accepts(out)).toEqual([]);
  });
});
