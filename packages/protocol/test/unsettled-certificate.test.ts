import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { type Certificate, certificateDigest } from "../src/wire/certificate.ts";
import type { AgentId } from "../src/wire/ids.ts";
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

  it("once held, is not completed by asking for the signatures it lacks", () => {
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
    // Gossip brings the rest as references; a crashed member's never comes. Asked (three times,
    // then once; whole commits of ~8 KB at 50 members), they were most of the commits 50 nodes
    // served each other by sync. A reference naming another body is asked for instead (below).
    const asked = seen.filter((a) => a.type === "sync" && a.want.type === "messages" && a.want.epoch === 0);
    expect(asked).toEqual([]);
  });
});

describe("a commit reference naming another body (docs/protocol.md §8)", () => {
  it("has the member's commit asked for whole while this node lacks it: 3 times at most, roundMs/2 apart", () => {
    const { net, source, certified } = settledMarket(6);
    const [other, held] = certified.commit.members.filter((m) => m !== source.id);
    if (!other || !held) throw new Error("too few members");
    // Epoch 0 whole but for one member's commit: certified here (so only references ask).
    const follower = createAgentMachine({ contract, now: net.now });
    for (const message of source.store)
      if (
        (message.epoch === 0 || message.kind === "join") &&
        !(message.kind === "commit" && message.agent === other)
      )
        follower.handle({ type: "message", now: net.now, message });
    expect(follower.committedBody(0), "the follower settled epoch 0").not.toBeNull();
    expect(follower.certificates().map((c) => certificateDigest(c))).toEqual([certificateDigest(certified)]);

    const half = contract.timeouts.roundMs / 2;
    const otherBody = (agent: string, now: number) =>
      ({ type: "other-body", now, epoch: 0, agent: agent as AgentId }) as const;
    const tick = (now: number) => ({ type: "tick", now }) as const;
    const asks = (events: readonly Parameters<typeof follower.handle>[0][]) =>
      events
        .flatMap((e) => follower.handle(e))
        .flatMap((a) =>
          a.type === "sync" && a.want.type === "messages" && a.want.kinds.includes("commit")
            ? [a.want.from]
            : [],
        );
    const t0 = net.now;
    // The references that came together go out in one request, naming the members whose commits
    // this node lacks: not one it holds, on any body.
    expect(asks([otherBody(other, t0), otherBody(held, t0), otherBody(other, t0), tick(t0)])).toEqual([
      [other],
    ]);
    // A reference is unsigned: a forged one may have spent that ask before the member committed.
    // Another is asked for again, but not sooner than roundMs/2 after, and 3 times at most.
    expect(asks([otherBody(other, t0 + half - 1), tick(t0 + half - 1)])).toEqual([]);
    expect(asks([otherBody(other, t0 + half), tick(t0 + half)])).toEqual([[other]]);
    expect(asks([otherBody(other, t0 + 2 * half), tick(t0 + 2 * half)])).toEqual([[other]]);
    expect(asks([otherBody(other, t0 + 3 * half), tick(t0 + 3 * half)])).toEqual([]);
    // Not a member, or not this node's epoch: nothing to ask.
    expect(asks([otherBody("not-a-member", t0 + 4 * half), tick(t0 + 4 * half)])).toEqual([]);
    expect(asks([{ ...otherBody(other, t0 + 4 * half), epoch: 7 }, tick(t0 + 4 * half)])).toEqual([]);
  });
});
