import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { type Certificate, certificateDigest } from "../src/wire/certificate.ts";
import { oneResourceMarket, settled } from "./settled-market.ts";

/**
 * A node that did not settle an epoch still assembles its certificate from a quorum of commits
 * (docs/protocol.md §8). In a live 50-node run one node was still waiting for the last round's
 * demands when the founder certified and decided the promotion epoch; the node moved on and never
 * held epoch 0's certificate, though all 50 commits reached it.
 */
const MEMBERS = 5;
const contract = oneResourceMarket("unsettled", MEMBERS, 8, { roundMs: 2_000, announceMs: 500 });

/** Five members settled with every one a voter; the founder's node and its certificate of epoch 0. */
function settledMarket(seed: number): { net: SimulatedNetwork; source: SimNode; certified: Certificate } {
  const net = new SimulatedNetwork({ contract, seed, delay: { min: 1, max: 40 } });
  const nodes = paperProfiles(MEMBERS, 3).map((profile, i) => net.addAgent(`n${i}`, profile));
  expect(net.runUntil(settled(nodes, MEMBERS), 120_000), `seed ${seed}`).toBe(true);
  const source = nodes[0];
  if (!source) throw new Error("no nodes");
  const certified = source.machine.certificates().find((c) => c.commit.epoch === 0);
  if (!certified) throw new Error(`seed ${seed}: epoch 0 was not certified`);
  return { net, source, certified };
}

describe("a certificate without settling (docs/protocol.md §8)", () => {
  it("is assembled from a quorum of identical commits by a node that saw none of the demands", () => {
    for (const seed of [1, 2, 3]) {
      const { net, source } = settledMarket(seed);
      const expected = source.machine.certificates();

      // Everything the market agreed on except its rounds: decisions, joins, commits.
      const follower = createAgentMachine({ contract, now: net.now });
      const assembled = new Map<number, Certificate>();
      for (const message of source.store.filter((m) => m.kind !== "demand")) {
        const actions: readonly MachineAction[] = follower.handle({ type: "message", now: net.now, message });
        for (const a of actions)
          if (a.type === "certificate") assembled.set(a.certificate.commit.epoch, a.certificate);
      }
      expect(follower.status().round ?? 0, `seed ${seed}: the follower ran no round`).toBe(0);
      for (const cert of expected) {
        const got = assembled.get(cert.commit.epoch);
        expect(got && certificateDigest(got), `seed ${seed}, epoch ${cert.commit.epoch}`).toBe(
          certificateDigest(cert),
        );
      }
    }
  });

  it("is asked for after the node moved on to the next epoch with too few commits, or none", () => {
    const { net, source, certified } = settledMarket(4);
    const lastRound = certified.commit.round;
    const commits = source.store.filter((m) => m.kind === "commit" && m.epoch === 0);

    // With no commit at all, what tells the node a certificate exists is the promotion's plan: it
    // links to epoch 0's certificate (§12).
    for (const early of [commits.slice(0, 1), []]) {
      const label = `${early.length} commit(s) before moving on`;
      // The founding epoch's decision and all but its last round, then the next epoch: a node
      // that was still waiting for the last demands when the promotion was decided.
      const follower = createAgentMachine({ contract, now: net.now });
      const seen: MachineAction[] = [];
      const feed = (message: (typeof source.store)[number], now = net.now) =>
        seen.push(...follower.handle({ type: "message", now, message }));
      for (const m of source.store) {
        if (m.epoch !== 0 && m.kind !== "join") continue;
        if (m.kind === "demand" && m.round >= lastRound) continue;
        if (m.kind === "commit" && !early.includes(m)) continue;
        feed(m);
      }
      for (const m of source.store)
        if ((m.kind === "propose" || m.kind === "accept") && m.epoch === 1) feed(m);
      expect(follower.status().epoch, label).toBe(1);
      expect(
        seen.some((a) => a.type === "certificate"),
        label,
      ).toBe(false);

      seen.push(...follower.handle({ type: "tick", now: net.now + contract.timeouts.roundMs }));
      const asked = seen.find((a) => a.type === "sync" && a.want.type === "messages" && a.want.epoch === 0);
      // Only the commits it lacks, from their members' nodes first.
      expect(asked && asked.type === "sync" && asked.want, label).toEqual({
        type: "messages",
        epoch: 0,
        kinds: ["commit"],
        from: certified.commit.members.filter((id) => !early.some((m) => m.agent === id)),
      });
      for (const m of commits) feed(m, net.now + contract.timeouts.roundMs);
      const got = seen.find((a) => a.type === "certificate");
      expect(got?.type === "certificate" && certificateDigest(got.certificate), label).toBe(
        certificateDigest(certified),
      );
    }
  });

  it("is completed with one request when a member never commits", () => {
    const { net, source, certified } = settledMarket(5);
    const silent = certified.commit.members.find((m) => m !== source.id);

    // Epoch 0 whole, but for one member's commit: a member that crashed after its last demand.
    const follower = createAgentMachine({ contract, now: net.now });
    const seen: MachineAction[] = [];
    for (const message of source.store)
      if (
        (message.epoch === 0 || message.kind === "join") &&
        !(message.kind === "commit" && message.agent === silent)
      )
        seen.push(...follower.handle({ type: "message", now: net.now, message }));
    const got = seen.find((a) => a.type === "certificate");
    expect(got?.type === "certificate" && got.complete).toBe(false);

    for (let t = 1; t <= 40; t++)
      seen.push(...follower.handle({ type: "tick", now: net.now + (t * contract.timeouts.roundMs) / 4 }));
    // One ask, for the one commit missing: how the certifying side of a split sees the other
    // body (§5.1). Asked three times (whole commits, ~8 KB each at 50 members), they were most of
    // the commits 50 nodes served each other by sync; a crashed member's is never coming.
    const asked = seen.filter((a) => a.type === "sync" && a.want.type === "messages" && a.want.epoch === 0);
    expect(asked.map((a) => a.type === "sync" && a.want.type === "messages" && a.want.from)).toEqual([
      [silent],
    ]);
  });
});
