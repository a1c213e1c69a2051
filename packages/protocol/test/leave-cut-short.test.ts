import { describe, expect, it } from "vitest";
import type { MachineStatus } from "../src/machine/agent-machine.ts";
import { hearsVoters, leaveHeld, lostToCutShortLeaves, noMajority } from "../src/sim/liveness.ts";
import type { SimNode } from "../src/sim/simulated-network.ts";
import type { AgentId } from "../src/wire/ids.ts";

/**
 * The liveness checker tells a leave cut short from a loss (sim/liveness.ts): a run without a
 * live majority only because a leaver went before any member that stays held the epoch without it
 * is not an exemption: the report counts and lists it apart (runner.ts, status "cut-short"). Seed
 * 23 before the leave-stay rule (at 1a64814, the parent of 2c39c3d): n1, leaving a
 * market of two, went on its own accept of the epoch without it; that accept was lost, and n0,
 * still in epoch 2 with voters {n0, n1}, could never decide.
 */

const n0 = "n0" as AgentId;
const n1 = "n1" as AgentId;

/** A node as the checker reads it: its id, whether it is up, and its machine's epoch. */
function node(
  id: AgentId,
  up: boolean,
  epoch: number,
  members: readonly AgentId[],
  voters: readonly AgentId[] = members,
): SimNode {
  const status = { epoch, members, voters, member: members.includes(id) } as Partial<MachineStatus>;
  return { name: id, id, up, role: "joiner", machine: { status: () => status } } as unknown as SimNode;
}

const nameOf = (id: string) => id;

describe("a leave cut short", () => {
  it("is flagged where the other member never held the epoch without the leaver (seed 23 before the rule)", () => {
    const stays = node(n0, true, 2, [n0, n1]);
    // n1 adopted epoch 3 {n0}, whose voters (epoch 2's) were n0 and n1.
    const leaving = node(n1, true, 3, [n0], [n0, n1]);
    expect(leaveHeld(leaving, [stays, leaving])).toBe(false);
    // It reached n0 (else it was cut off, a loss like a crash, and counted apart).
    expect(hearsVoters(leaving, [stays, leaving], () => true)).toBe(true);
    expect(hearsVoters(leaving, [stays, leaving], () => false)).toBe(false);
    const gone = node(n1, false, 3, [n0]);
    const live = new Set([n0]);
    // Before: counted as no live majority, and liveness was not asked.
    expect(noMajority([stays, gone], live, nameOf)).toContain("1 of 2 voters alive");
    expect(lostToCutShortLeaves([stays, gone], live, new Set([n1]), nameOf)).toContain("lost only to n1");
  });

  it("is not a leave that went once a member that stays held the epoch without it", () => {
    const stays = node(n0, true, 3, [n0]);
    const leaving = node(n1, true, 3, [n0], [n0, n1]);
    expect(leaveHeld(leaving, [stays, leaving])).toBe(true);
  });

  it("is not what cost the majority where crashes would have cost it anyway", () => {
    const n2 = "n2" as AgentId;
    const n3 = "n3" as AgentId;
    const voters = [n0, n1, n2, n3];
    const nodes = [
      node(n0, true, 2, voters),
      node(n1, false, 3, [n0]),
      node(n2, false, 2, voters),
      node(n3, false, 2, voters),
    ];
    // n2 and n3 crashed for good: with n1 back, still 2 of 4.
    expect(lostToCutShortLeaves(nodes, new Set([n0]), new Set([n1]), nameOf)).toBeNull();
  });
});
