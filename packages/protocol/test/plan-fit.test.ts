import { describe, expect, it } from "vitest";
import { commitBytesBound, decisionBytesBound, fitJoiners, planOverflow } from "../src/machine/plan-fit.ts";
import { createPrng } from "../src/random/prng.ts";
import { canonicalJson } from "../src/wire/canonical-json.ts";
import { contractSchema } from "../src/wire/contract.ts";
import type { AgentId, Digest } from "../src/wire/ids.ts";
import { MAX_MESSAGE_BYTES } from "../src/wire/message-codec.ts";
import type { EpochPlan } from "../src/wire/messages.ts";

const rng = createPrng(20261202);
/** What the wire counts: UTF-8 bytes (an id may hold any character). */
const bytes = (value: unknown) => new TextEncoder().encode(canonicalJson(value)).length;
const pick = (n: number) => Math.floor(rng() * n);
/** Ids of 1–128 characters, some with characters JSON must escape. */
function randomId(): AgentId {
  const length = 1 + pick(128);
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"\\\n\u0001é';
  return Array.from({ length }, () => alphabet[pick(alphabet.length)]).join("") as AgentId;
}
const ids = (n: number) => [...new Set(Array.from({ length: n }, randomId))].sort();
const anyNumber = () =>
  [-2.2250738585072014e-308, 1e12, -1e12, rng(), -rng() * 1e-300, 123456.789][pick(6)] as number;
const hex = "0123456789abcdef".repeat(4);
const terms = contractSchema.parse({
  name: "fit",
  resources: [
    { id: "a", capacity: 3 },
    { id: "b", capacity: 4 },
  ],
  fees: { perUnit: 0.5, fixed: 0 },
});

function plan(members: AgentId[]): EpochPlan {
  const voters = members.filter(() => rng() < 0.7);
  return {
    members,
    deciders: voters.length > 0 ? voters : members,
    voters: voters.length > 0 ? voters : members,
    base: { epoch: Number.MAX_SAFE_INTEGER, round: 7, prices: [anyNumber(), anyNumber()] },
    terms: rng() < 0.5 ? terms : null,
    ledger: rng() < 0.5 ? (hex as Digest) : null,
    cause: ["join", "silence", "promote"],
  };
}

describe("plan fit: an epoch's messages within the wire's cap", () => {
  it("bounds every view and commit from above, and not by much", () => {
    for (let trial = 0; trial < 40; trial++) {
      const members = ids(1 + pick(300));
      const p = plan(members);
      const signer = members[pick(members.length)] as AgentId;
      const view = bytes({
        v: 2,
        kind: "view",
        contract: hex,
        agent: signer,
        sig: `${"A".repeat(85)}A==`,
        epoch: pick(1e9),
        view: pick(1_000_000),
        accepted: { view: pick(1_000_000), plan: p },
      });
      const bound = decisionBytesBound(p);
      expect(view).toBeLessThanOrEqual(bound);
      expect(bound - view).toBeLessThan(300);
      const resources = 1 + pick(64);
      const commit = bytes({
        v: 2,
        kind: "commit",
        contract: hex,
        agent: signer,
        sig: `${"A".repeat(85)}A==`,
        epoch: pick(1e9),
        round: pick(100),
        members,
        prices: Array.from({ length: resources }, anyNumber),
        allocations: members.map((agent) => ({
          agent,
          x: anyNumber(),
          footprint: Array.from({ length: resources }, anyNumber),
        })),
        residual: anyNumber(),
        ...(rng() < 0.5 ? { approximate: true, reason: "too-slow" } : {}),
        previous: rng() < 0.5 ? hex : null,
      });
      const commitBound = commitBytesBound(members, resources);
      expect(commit).toBeLessThanOrEqual(commitBound);
      // Numbers are counted at their longest (24 characters): most are shorter.
      expect(commitBound).toBeLessThan(commit + members.length * (resources + 1) * 24 + 600);
    }
  });

  it("fits about 1,390 peer-id members at one resource and about 150 at 64", () => {
    const peerIds = (n: number) =>
      Array.from({ length: n }, (_, i) => `12D3KooW${String(i).padStart(44, "x")}` as AgentId).sort();
    const most = (resources: number) =>
      fitJoiners(
        (joiners) => ({
          ...plan([]),
          members: [...joiners],
          deciders: joiners.slice(0, 1),
          voters: joiners.slice(0, 1),
        }),
        peerIds(3_000),
        resources,
      )?.admitted ?? 0;
    const one = most(1);
    expect(one).toBeGreaterThan(1_300);
    expect(one).toBeLessThan(1_700);
    const many = most(64);
    expect(many).toBeGreaterThan(100);
    expect(many).toBeLessThan(250);
  });

  it("fits joiners as if every member already voted and decided, as they will after promotion", () => {
    // Ids of 128 characters: the view's three lists then outweigh the commit's part of a member.
    const joiners = Array.from({ length: 400 }, (_, i) => String(i).padStart(128, "k") as AgentId).sort();
    const build = (js: readonly AgentId[]) => ({
      ...plan([]),
      terms,
      members: [...js].sort(),
      deciders: js.slice(0, 1),
      voters: js.slice(0, 1),
    });
    const cap = 40_000;
    const fit = fitJoiners(build, joiners, 1, cap);
    const members = fit?.plan.members ?? [];
    expect(members.length).toBeGreaterThan(10);
    expect(
      planOverflow({ ...(fit?.plan as EpochPlan), deciders: members, voters: members }, 1, cap),
    ).toBeNull();
    // A plan that fits as it is, though not once promoted, still goes out without joiners: the
    // promotion rule gates admission, not an epoch's other changes (a leaver, a silent member).
    const tight = build(joiners.slice(0, members.length + 40));
    const asIs = Math.max(decisionBytesBound(tight), commitBytesBound(tight.members, 1)) + 1_000;
    const withoutJoiners = fitJoiners(() => tight, joiners, 1, asIs);
    expect(withoutJoiners?.admitted).toBe(0);
    expect(withoutJoiners?.plan).toBe(tight);
    // One more joiner would not fit once promoted, though it would as first planned.
    const more = build(joiners.slice(0, members.length + 1));
    expect(planOverflow({ ...more, deciders: more.members, voters: more.members }, 1, cap)).not.toBeNull();
  });

  it("admits the joiners heard first, as many as fit, and none when the plan without them does not fit", () => {
    const keep = ids(10);
    const joiners = ids(200);
    const skeleton = { ...plan([]), terms };
    const build = (js: readonly AgentId[]) => ({
      ...skeleton,
      members: [...keep, ...js].sort(),
      deciders: keep,
      voters: keep,
    });
    const promoted = (p: EpochPlan) => ({ ...p, deciders: p.members, voters: p.members });
    const bound = (p: EpochPlan) => Math.max(decisionBytesBound(promoted(p)), commitBytesBound(p.members, 1));
    const cap = bound(build(joiners.slice(0, 50))) + 10;
    const fit = fitJoiners(build, joiners, 1, cap);
    expect(fit?.admitted).toBe(50);
    expect(fit?.plan.members).toEqual([...keep, ...joiners.slice(0, 50)].sort());
    expect(planOverflow(promoted(fit?.plan as EpochPlan), 1, cap)).toBeNull();
    expect(planOverflow(promoted(build(joiners.slice(0, 51))), 1, cap)).toMatch(/\b61\b/);
    expect(fitJoiners(build, joiners, 1, bound(build([])) - 1)).toBeNull();
    expect(fitJoiners(build, joiners, 1, Number.POSITIVE_INFINITY)?.admitted).toBe(200);
    expect(MAX_MESSAGE_BYTES).toBe(262_144);
  });
});
