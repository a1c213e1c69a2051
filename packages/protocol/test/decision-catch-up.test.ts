import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catchUpNames } from "../src/machine/decision-catch-up.ts";
import { MAX_SYNC_AGENTS } from "../src/machine/machine-io.ts";
import type { AgentId } from "../src/wire/ids.ts";

const ids = (n: number): AgentId[] =>
  Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(3, "0")}` as AgentId);

describe("the deciders a catch-up on the decision under way names (machine/decision-catch-up.ts)", () => {
  it("names every lacking decider when they fit in one request", () => {
    const lacking = ids(MAX_SYNC_AGENTS);
    expect(catchUpNames(lacking, lacking[5] as AgentId, 7)).toEqual(lacking);
    expect(catchUpNames([], null, 0)).toEqual([]);
  });

  it("past the cap: 32 distinct lacking deciders, the missing proposal's proposer first, and within ⌈(n − 1)/31⌉ turns (⌈n/32⌉ with none missing) every one of them", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_SYNC_AGENTS + 1, max: 300 }),
        fc.option(fc.nat({ max: 299 }), { nil: undefined }),
        fc.nat({ max: 1_000 }),
        (n, proposerAt, from) => {
          const lacking = ids(n);
          // null: no proposal is missing.
          const proposer =
            proposerAt !== undefined && proposerAt < n ? (lacking[proposerAt] as AgentId) : null;
          const proposerLacks = proposer !== null;
          const others = lacking.filter((id) => id !== proposer);
          const room = MAX_SYNC_AGENTS - (proposerLacks ? 1 : 0);
          const seen = new Set<AgentId>();
          for (let turn = from; turn < from + Math.ceil(others.length / room); turn++) {
            const named = catchUpNames(lacking, proposer, turn);
            expect(named).toHaveLength(MAX_SYNC_AGENTS);
            expect(new Set(named).size).toBe(named.length);
            for (const id of named) expect(lacking).toContain(id);
            if (proposerLacks) expect(named[0]).toBe(proposer);
            for (const id of named) seen.add(id);
          }
          expect(seen.size).toBe(n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
