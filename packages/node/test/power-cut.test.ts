import {
  type AgentProfile,
  paperScenario,
  type Signer,
  type SimNode,
  SimulatedNetwork,
  scenarioSchema,
  slotOf,
  type WireMessage,
} from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { fsyncsBeforePublish } from "../src/actions/action-executor.ts";

/**
 * A power cut loses the store's tail after its last fsync (SQLite's WAL keeps a prefix of the
 * commits; the node fsyncs an own message before publishing it only where `fsyncsBeforePublish`
 * says so). Whatever prefix the cut keeps, the restarted node must never sign a message for one
 * of its slots that differs from the one it signed before: peers would hold proof of equivocation
 * against an honest node.
 *
 * The machines run on the simulated network (the node's machine, its store as the simulator keeps
 * it: every message in the order the node took it). A member runs into its second epoch under a
 * proximal contract, so each demand depends on the one before, across the epoch boundary too; then
 * it loses every tail the fsync rule allows — each cut just before one of its own messages after
 * the last fsynced one — restarts on the rest, and runs on with its peers. The founder (n0) decides
 * the second epoch, and its accept (fsynced) comes before that epoch's demands; n1 only adopts it
 * and signs nothing fsynced but its demands, so a cut can fall on both sides of the boundary.
 */
const base = paperScenario({ agents: 6, capacity: 8, seed: 5, g: 0, rule: "gradient" });
const scenario = scenarioSchema.parse({
  ...base,
  contract: { ...base.contract, proximal: 2, minMembers: 6 },
});

interface Run {
  readonly net: SimulatedNetwork;
  readonly signer: Signer;
  readonly profile: AgentProfile;
  node(): SimNode;
}

/** The market, run until `name` bid in a second epoch: a cut may then fall around the boundary. */
function runToCut(name: string): Run {
  const net = new SimulatedNetwork({ contract: scenario.contract, seed: 2 });
  const agents = scenario.agents.map((a, i) => {
    const signer = net.newSigner();
    const { id: _id, ...profile } = a;
    net.addAgent(`n${i}`, profile, signer);
    return { signer, profile: profile as AgentProfile };
  });
  const { signer, profile } = agents[Number(name.slice(1))] as { signer: Signer; profile: AgentProfile };
  const run: Run = { net, signer, profile, node: () => net.node(name) as SimNode };
  const bidInSecond = (m: WireMessage) =>
    m.agent === signer.id && m.kind === "demand" && m.epoch >= 1 && m.round >= 1;
  expect(
    net.runUntil(() => run.node().store.some(bidInSecond), 120_000),
    `${name} bids in a second epoch`,
  ).toBe(true);
  return run;
}

describe("a power cut at any point the fsync rule allows", () => {
  for (const name of ["n0", "n1"])
    it(`never makes the restarted node (${name}) sign a second, different message for one of its slots`, () => {
      const first = runToCut(name);
      const store = [...first.node().store];
      const own = (m: WireMessage) => m.agent === first.signer.id;
      const lastFsynced = store.findLastIndex((m) => own(m) && fsyncsBeforePublish(m));
      const cuts = store.flatMap((m, i) => (i > lastFsynced && own(m) ? [i] : []));
      expect(cuts.length, "own messages signed after the last fsync").toBeGreaterThan(0);
      const signed = new Map(store.filter(own).map((m) => [slotOf(m), m]));
      // Lost own messages the restarted node signed again, the same: the cuts do make it re-sign.
      let again = 0;
      for (const cut of cuts) {
        // The same run again (a seed replays exactly), cut there this time.
        const run = runToCut(name);
        run.net.crash(run.node());
        run.node().store.length = cut;
        run.net.restart(run.node(), run.profile, run.signer);
        run.net.advanceTo(run.net.now + 20_000);
        const after = run.node().store.slice(cut).filter(own);
        const twice = after.filter((m) => {
          const before = signed.get(slotOf(m));
          return before !== undefined && JSON.stringify(before) !== JSON.stringify(m);
        });
        expect(twice.map(slotOf), `cut at ${cut} of ${store.length}`).toEqual([]);
        again += after.filter((m) => signed.has(slotOf(m))).length;
        const evidence = run.net.nodes.flatMap((n) => n.machine.status().equivocations.map((e) => e.slot));
        expect(evidence, `cut at ${cut}: the peers' equivocation evidence`).toEqual([]);
      }
      expect(again).toBeGreaterThan(0);
    });
});
