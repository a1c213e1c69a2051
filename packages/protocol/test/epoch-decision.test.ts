import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EpochDecision } from "../src/machine/epoch-decision.ts";
import { planDigest, proposerOf } from "../src/machine/epoch-plan.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type AgentId, asContractId, compareIds } from "../src/wire/ids.ts";
import {
  type AcceptMessage,
  type EpochPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type ViewMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

const CONTRACT = asContractId("ab".repeat(32));
const EPOCH = 7;
const keys = [1, 2, 3, 4, 5, 6, 7].map((i) => createSigner(new Uint8Array(32).fill(i)));
const byId = new Map(keys.map((k) => [k.id, k]));
const deciders = (n: number): AgentId[] =>
  keys
    .slice(0, n)
    .map((k) => k.id)
    .sort(compareIds);

/** A distinguishable plan per proposer and view: who proposed it is visible in its base round. */
const planOf = (ds: readonly string[], proposer: number, view: number): EpochPlan => ({
  members: ds as EpochPlan["members"],
  deciders: ds as EpochPlan["deciders"],
  voters: ds as EpochPlan["voters"],
  base: { epoch: EPOCH - 1, round: proposer * 100 + view, prices: [1] },
  terms: null,
  ledger: null,
  cause: ["join"],
});

const sign = <M extends ProposeMessage | AcceptMessage | ViewMessage>(signer: Signer, body: object): M =>
  signMessage<M>(
    { v: PROTOCOL_VERSION, contract: CONTRACT, agent: signer.id, epoch: EPOCH, ...body } as Unsigned<M>,
    signer,
  );

describe("EpochDecision (single-decree Paxos for one epoch)", () => {
  it("view 0: the proposal and a majority of accepts decide it, in any arrival order", () => {
    const ds = deciders(5);
    const proposer = byId.get(proposerOf(EPOCH, 0, ds)) as Signer;
    const plan = planOf(ds, 0, 0);
    const p = sign<ProposeMessage>(proposer, { kind: "propose", view: 0, plan });
    const accepts = ds
      .filter((id) => id !== proposer.id)
      .map((id) =>
        sign<AcceptMessage>(byId.get(id) as Signer, {
          kind: "accept",
          view: 0,
          plan: planDigest(EPOCH, plan),
        }),
      );
    const observer = new EpochDecision(EPOCH, ds, null, 0);
    observer.onAccept(accepts[0] as AcceptMessage, 1);
    observer.onAccept(accepts[1] as AcceptMessage, 2);
    expect(observer.decided()).toBeNull(); // accepts without the proposal decide nothing
    observer.onPropose(p, 3);
    expect(observer.decided()).toMatchObject({ epoch: EPOCH, view: 0, plan });
    expect(observer.decided()?.evidence).toHaveLength(3); // proposal + 2 accepts = 3 of 5
  });

  it("ignores a proposal from anyone but the view's proposer, and accepts from non-deciders", () => {
    const ds = deciders(3);
    const impostor = byId.get(ds.find((id) => id !== proposerOf(EPOCH, 0, ds)) as AgentId) as Signer;
    const d = new EpochDecision(EPOCH, ds, null, 0);
    d.onPropose(sign<ProposeMessage>(impostor, { kind: "propose", view: 0, plan: planOf(ds, 1, 0) }), 0);
    expect(d.proposal(0)).toBeUndefined();
    const outsider = keys[6] as Signer;
    d.onAccept(sign<AcceptMessage>(outsider, { kind: "accept", view: 0, plan: "00".repeat(32) }), 0);
    expect(d.active).toBe(false);
  });

  it("a promise for view 2 makes a view-1 proposal unacceptable, and the proposer of view 2 must re-propose what was accepted", () => {
    const ds = deciders(3);
    const me = byId.get(ds[0] as AgentId) as Signer;
    const d = new EpochDecision(EPOCH, ds, me.id, 0);
    // Someone accepted view 0's plan before the view changed.
    const p0 = planOf(ds, 0, 0);
    const other = byId.get(ds[1] as AgentId) as Signer;
    d.onView(sign<ViewMessage>(me, { kind: "view", view: 2, accepted: null }), 10);
    d.onView(sign<ViewMessage>(other, { kind: "view", view: 2, accepted: { view: 0, plan: p0 } }), 11);
    expect(d.promised).toBe(2);
    const p1 = sign<ProposeMessage>(byId.get(proposerOf(EPOCH, 1, ds)) as Signer, {
      kind: "propose",
      view: 1,
      plan: planOf(ds, 1, 1),
    });
    d.onPropose(p1, 12);
    expect(d.acceptable()).toBeNull();
    expect(d.promisesFor(2)).toBe(2);
    expect(d.constrainedPlan(2)).toEqual(p0);
  });

  it("the proposer passes over a promised plan that could not have been chosen (a forged ledger link, §12)", () => {
    const ds = deciders(3);
    const [a, b, c] = ds.map((id) => byId.get(id) as Signer) as [Signer, Signer, Signer];
    const d = new EpochDecision(EPOCH, ds, a.id, 0);
    const honest = planOf(ds, 0, 0);
    const forged = { ...planOf(ds, 1, 1), ledger: "e".repeat(64) } as EpochPlan;
    d.onView(sign<ViewMessage>(a, { kind: "view", view: 2, accepted: null }), 10);
    d.onView(sign<ViewMessage>(b, { kind: "view", view: 2, accepted: { view: 0, plan: honest } }), 11);
    d.onView(sign<ViewMessage>(c, { kind: "view", view: 2, accepted: { view: 1, plan: forged } }), 12);
    expect(d.constrainedPlan(2)).toEqual(forged);
    expect(d.constrainedPlan(2, (p) => p.ledger === null)).toEqual(honest);
    expect(d.constrainedPlan(2, () => false)).toBeNull();
  });

  it("names the deciders whose say in a view it lacks: a later view counts, a promise of the view itself does not", () => {
    const ds = deciders(5);
    const me = ds[0] as AgentId;
    const d = new EpochDecision(EPOCH, ds, me, 0);
    expect(d.lacking(0)).toEqual(ds.slice(1)); // nothing heard: everyone but this node
    const proposer0 = proposerOf(EPOCH, 0, ds);
    const plan = planOf(ds, 0, 0);
    d.onPropose(sign<ProposeMessage>(byId.get(proposer0) as Signer, { kind: "propose", view: 0, plan }), 1);
    const others = ds.filter((id) => id !== me && id !== proposer0);
    const [a, b, c] = others as [AgentId, AgentId, AgentId];
    d.onAccept(
      sign<AcceptMessage>(byId.get(a) as Signer, { kind: "accept", view: 0, plan: planDigest(EPOCH, plan) }),
      2,
    );
    d.onView(sign<ViewMessage>(byId.get(b) as Signer, { kind: "view", view: 0, accepted: null }), 3);
    d.onView(sign<ViewMessage>(byId.get(c) as Signer, { kind: "view", view: 1, accepted: null }), 4);
    // View 0: the proposer (its proposal), `a` (its accept) and `c` (gone on to view 1) are heard;
    // `b`'s promise of view 0 is not an accept.
    expect(d.lacking(0)).toEqual([b]);
    // View 1: `c`'s promise of it is not an accept either, and its proposer has proposed nothing.
    expect(d.lacking(1)).toEqual(ds.filter((id) => id !== me));
    // `b` accepts view 2, whose proposal this node lacks: at view 0 `b` is heard, view 2's proposer
    // is not, though an accept of its own (view 0, say) would count for it otherwise.
    const proposer2 = proposerOf(EPOCH, 2, ds);
    d.onAccept(
      sign<AcceptMessage>(byId.get(b) as Signer, { kind: "accept", view: 2, plan: "00".repeat(32) }),
      5,
    );
    expect(d.lacking(0)).toEqual(proposer2 === me ? [] : [proposer2]);
  });

  it("names exactly the deciders no fed message shows at or past the view, whatever was fed", () => {
    const ds = deciders(6);
    const me = ds[2] as AgentId;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 6 }), fc.nat({ max: 3 })), { maxLength: 40 }),
        fc.nat({ max: 3 }),
        (feeds, view) => {
          const d = new EpochDecision(EPOCH, ds, me, 0);
          const fed: (ProposeMessage | AcceptMessage | ViewMessage)[] = [];
          for (const [kind, who, v] of feeds) {
            // who 6: a key that is no decider; a proposal by anyone but its view's proposer (who 5
            // says the proposer): both are messages the decision drops, and so must the rule.
            const author =
              who === 6
                ? (keys[6] as Signer).id
                : kind === 0 && who === 5
                  ? proposerOf(EPOCH, v, ds)
                  : (ds[who] as AgentId);
            const signer = byId.get(author) as Signer;
            const plan = planOf(ds, who, v);
            const m =
              kind === 0
                ? sign<ProposeMessage>(signer, { kind: "propose", view: v, plan })
                : kind === 1
                  ? sign<AcceptMessage>(signer, { kind: "accept", view: v, plan: planDigest(EPOCH, plan) })
                  : sign<ViewMessage>(signer, { kind: "view", view: v, accepted: null });
            fed.push(m);
            if (m.kind === "propose") d.onPropose(m, 0);
            else if (m.kind === "accept") d.onAccept(m, 0);
            else d.onView(m, 0);
          }
          // The rule read straight off the messages fed, not the decision's books: only deciders'
          // messages count, and only proposals by their view's proposer.
          const counted = fed.filter(
            (m) =>
              ds.includes(m.agent) && (m.kind !== "propose" || m.agent === proposerOf(EPOCH, m.view, ds)),
          );
          const shows = (id: AgentId) =>
            counted.some(
              (m) =>
                m.agent === id &&
                ((m.kind === "accept" && m.view >= view) ||
                  (m.kind !== "accept" && m.view > view) ||
                  (m.kind === "propose" && m.view === view)),
            );
          const proposed = (v: number) => counted.some((m) => m.kind === "propose" && m.view === v);
          const wanted = new Set(
            [view, ...counted.filter((m) => m.kind === "accept").map((m) => m.view)]
              .filter((v) => v >= view && !proposed(v))
              .map((v) => proposerOf(EPOCH, v, ds)),
          );
          const expected = ds.filter((id) => id !== me && (wanted.has(id) || !shows(id)));
          expect(d.lacking(view)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never decides two plans, whatever the order, loss and view changes (§9.3's rules, followed by every decider)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 9 })), { minLength: 1, maxLength: 400 }),
        (n, schedule) => {
          const ds = deciders(n);
          const nodes = ds.map((id) => ({
            id,
            d: new EpochDecision(EPOCH, ds, id as never, 0),
            inbox: [] as (ProposeMessage | AcceptMessage | ViewMessage)[],
          }));
          const broadcast = (m: ProposeMessage | AcceptMessage | ViewMessage) => {
            for (const node of nodes) node.inbox.push(m);
          };
          const act = (node: (typeof nodes)[number]) => {
            const { d, id } = node;
            const signer = byId.get(id) as Signer;
            const ok = d.acceptable();
            if (ok) {
              const m = sign<AcceptMessage>(signer, {
                kind: "accept",
                view: ok.view,
                plan: planDigest(EPOCH, ok.plan),
              });
              d.onAccept(m, 0);
              broadcast(m);
            }
            const high = d.highestView();
            if (high > d.view) {
              const m = sign<ViewMessage>(signer, {
                kind: "view",
                view: high,
                accepted: d.accepted ? { view: d.accepted.view, plan: d.accepted.plan } : null,
              });
              d.onView(m, 0);
              broadcast(m);
            }
            if (
              d.proposer(d.view) === id &&
              !d.proposal(d.view) &&
              (d.view === 0 || d.promisesFor(d.view) >= d.quorum)
            ) {
              const own = planOf(ds, ds.indexOf(id), d.view);
              const m = sign<ProposeMessage>(signer, {
                kind: "propose",
                view: d.view,
                plan: d.view === 0 ? own : (d.constrainedPlan(d.view) ?? own),
              });
              d.onPropose(m, 0);
              broadcast(m);
            }
          };
          for (const node of nodes) act(node);
          for (const [pick, op] of schedule) {
            const node = nodes[pick % nodes.length] as (typeof nodes)[number];
            if (op === 0) {
              // A timeout: move to the next view.
              const m = sign<ViewMessage>(byId.get(node.id) as Signer, {
                kind: "view",
                view: node.d.view + 1,
                accepted: node.d.accepted ? { view: node.d.accepted.view, plan: node.d.accepted.plan } : null,
              });
              node.d.onView(m, 0);
              broadcast(m);
            } else if (op === 1) {
              node.inbox.splice(pick % Math.max(1, node.inbox.length), 1); // a loss
            } else if (node.inbox.length > 0) {
              const m = node.inbox.splice(pick % node.inbox.length, 1)[0] as
                | ProposeMessage
                | AcceptMessage
                | ViewMessage;
              if (m.kind === "propose") node.d.onPropose(m, 0);
              else if (m.kind === "accept") node.d.onAccept(m, 0);
              else node.d.onView(m, 0);
            }
            act(node);
            const decided = nodes.map((x) => x.d.decided()).filter((x) => x !== null);
            for (const x of decided) expect(x.plan).toEqual(decided[0]?.plan);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
