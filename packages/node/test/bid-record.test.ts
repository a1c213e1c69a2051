import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AgentProfile,
  agentProfileSchema,
  canonicalJson,
  createAgentMachine,
  type DemandMessage,
  paperScenario,
  SimulatedNetwork,
  scenarioSchema,
  type WireMessage,
} from "@walras/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIDS_KEY, LEGACY_PROFILE_KEY, loadBidRecord } from "../src/store/bid-record.ts";
import { openStore, type Store } from "../src/store/store.ts";

let dir: string;
let store: Store | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-bids-"));
});
afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The store closed and opened again, as across a restart. */
function reopen(): Store {
  store?.close();
  store = openStore(dir);
  return store;
}

const bid = (alpha: number): AgentProfile =>
  agentProfileSchema.parse({
    valuation: { kind: "log", alpha },
    cost: { kind: "linear", beta: 1 },
    footprint: [1],
  });

describe("bid record", () => {
  it("keeps which bid each epoch runs with across restarts: the current epoch's and the next's", () => {
    const file = bid(10);
    let record = loadBidRecord(reopen(), file);
    expect(record.bids).toEqual([{ from: 0, profile: file }]);
    expect(record.fileChanged).toBeNull();
    record.change(4, bid(20));
    record = loadBidRecord(reopen(), file);
    expect(record.bids).toEqual([
      { from: 0, profile: file },
      { from: 4, profile: bid(20) },
    ]);
    expect(record.latest).toEqual(bid(20));
    // A later change drops what no restart can sign in any more.
    record.change(9, bid(30));
    expect(loadBidRecord(reopen(), file).bids).toEqual([
      { from: 4, profile: bid(20) },
      { from: 9, profile: bid(30) },
    ]);
  });

  it("an agent file changed between runs is a new bid for the next slot; the replayed epochs keep theirs", () => {
    loadBidRecord(reopen(), bid(10)).change(3, bid(20));
    const edited = bid(50);
    let record = loadBidRecord(reopen(), edited);
    expect(record.fileChanged).toEqual(edited);
    expect(record.latest).toEqual(edited);
    expect(record.bids).toEqual([
      { from: 0, profile: bid(10) },
      { from: 3, profile: bid(20) },
    ]);
    record.change(7, edited);
    expect(record.fileChanged).toBeNull();
    record = loadBidRecord(reopen(), edited);
    expect(record.fileChanged).toBeNull();
    expect(record.bids).toEqual([
      { from: 3, profile: bid(20) },
      { from: 7, profile: edited },
    ]);
  });

  it("a bid saved through the API before the file's was recorded wins over the file's", () => {
    loadBidRecord(reopen(), bid(10));
    const record = loadBidRecord(reopen(), bid(50));
    record.change(2, bid(70));
    expect(record.fileChanged).toBeNull();
    expect(record.latest).toEqual(bid(70));
  });

  it("a change is fsynced before it returns (the API answers 200 after it): a power cut cannot lose a saved bid", () => {
    const real = reopen();
    const writes: { key: string; durable: boolean }[] = [];
    const observed: Store = {
      ...real,
      saveState: (key, value, options) => {
        writes.push({ key, durable: options?.durable === true });
        real.saveState(key, value, options);
      },
    };
    const record = loadBidRecord(observed, bid(10));
    writes.length = 0;
    record.change(2, bid(20));
    expect(writes).toEqual([{ key: BIDS_KEY, durable: true }]);
    expect(loadBidRecord(reopen(), bid(10)).latest).toEqual(bid(20));
  });

  it("a change the store cannot write (a full disk) throws and leaves the record as it was", () => {
    const real = reopen();
    const record = loadBidRecord(real, bid(10));
    const full: Store = {
      ...real,
      saveState: () => {
        throw new Error("database or disk is full");
      },
    };
    const refused = loadBidRecord(full, bid(10));
    expect(() => refused.change(2, bid(20))).toThrow(/full/);
    expect(refused.bids).toEqual(record.bids);
    expect(refused.latest).toEqual(bid(10));
  });

  it("reads a data dir from before the record: the API-changed bid it kept, unless the agent file changed", () => {
    const file = bid(10);
    reopen().saveState(LEGACY_PROFILE_KEY, { from: canonicalJson(file), current: bid(40) });
    expect(loadBidRecord(reopen(), file).bids).toEqual([{ from: 0, profile: bid(40) }]);
    expect(reopen().loadState(BIDS_KEY)).toEqual({
      file: canonicalJson(file),
      bids: [{ from: 0, profile: bid(40) }],
    });
  });

  it("reads a data dir from before the record whose agent file changed: the file's bid", () => {
    reopen().saveState(LEGACY_PROFILE_KEY, { from: canonicalJson(bid(10)), current: bid(40) });
    expect(loadBidRecord(reopen(), bid(15)).bids).toEqual([{ from: 0, profile: bid(15) }]);
  });
});

describe("bid record: a restart after a power cut", () => {
  it("signs the lost demand of an epoch whose bid changed mid-way again bit for bit", () => {
    const base = paperScenario({ agents: 8, capacity: 3, seed: 3, g: 0, rule: "gradient" });
    const scenario = scenarioSchema.parse({
      ...base,
      contract: { ...base.contract, minMembers: 8, period: { ms: 3_600_000 } },
    });
    const net = new SimulatedNetwork({ contract: scenario.contract, seed: 1 });
    const signers = scenario.agents.map((a, i) => {
      const signer = net.newSigner();
      const { id: _id, ...profile } = a;
      net.addAgent(`n${i}`, profile, signer);
      return { signer, profile: profile as AgentProfile };
    });
    const { signer, profile: file } = signers[0] as {
      signer: ReturnType<SimulatedNetwork["newSigner"]>;
      profile: AgentProfile;
    };
    const n0 = () => net.node("n0") as NonNullable<ReturnType<SimulatedNetwork["node"]>>;
    const own = () =>
      n0().store.filter((m): m is DemandMessage => m.kind === "demand" && m.agent === signer.id);
    const record = loadBidRecord(reopen(), file);
    expect(net.runUntil(() => own().some((d) => d.round >= 2), 60_000)).toBe(true);
    // The API's bid change, as walras-node.ts makes it: recorded first, then handed to the machine.
    const richer = bid(60);
    const changedIn = own().at(-1) as DemandMessage;
    record.change(n0().machine.bidFrom(), richer);
    net.act(n0(), (now) => ({ type: "profile", now, profile: richer }));
    expect(n0().machine.bids()).toEqual(record.bids);
    const later = () => own().find((d) => d.epoch === changedIn.epoch && d.round > changedIn.round);
    expect(net.runUntil(() => later() !== undefined, 60_000)).toBe(true);
    const lost = later() as DemandMessage;
    // The power cut: the store keeps what came before the lost demand; the record survived.
    const kept: readonly WireMessage[] = n0().store.slice(0, n0().store.indexOf(lost));
    const restarted = loadBidRecord(reopen(), file);
    expect(restarted.latest).toEqual(richer);
    const machine = createAgentMachine({
      contract: scenario.contract,
      signer,
      bids: restarted.bids,
      now: net.now,
    });
    for (const message of kept)
      if (machine.check(message).verdict === "accept")
        machine.handle({ type: "message", now: net.now, message, replay: true });
    const again = machine
      .handle({ type: "resume", now: net.now })
      .flatMap((a) => (a.type === "publish" && a.message.kind === "demand" ? [a.message] : []))
      .find((d) => d.epoch === lost.epoch && d.round === lost.round);
    expect(again).toEqual(lost);
  });
});
