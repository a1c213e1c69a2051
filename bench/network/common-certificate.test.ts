import type { NodeStatus } from "@walras/node";
import { describe, expect, it } from "vitest";
import { commonCertificate } from "./measure-network.ts";

type Certified = NodeStatus["certified"][number];

const held = (
  epoch: number,
  heldSince: number,
  members = 3,
  startedAt: number | null = heldSince - 500,
): Certified => ({
  epoch,
  round: epoch === 0 ? 6 : 0,
  digest: `body-${epoch}`,
  members,
  startedAt,
  heldSince,
});
/** Only what the bench reads: the epochs a node held a certificate of. */
const status = (...certified: Certified[]) => ({ certified }) as unknown as NodeStatus;

describe("the network bench's common certificate", () => {
  it("is the first epoch every node held, though a node moved on before a poll saw it there", () => {
    const common = commonCertificate(3);
    // Node 2 does not answer the first poll; by the second it holds the promotion epoch too.
    expect(common.seen([status(held(0, 1_000)), status(held(0, 1_200)), null])).toBe(false);
    expect(
      common.seen([
        status(held(0, 1_000), held(1, 2_000)),
        status(held(0, 1_200), held(1, 2_100)),
        status(held(0, 1_500), held(1, 2_400)),
      ]),
    ).toBe(true);
    expect(common.found()?.epoch).toBe(0);
    expect(common.heldBy()).toBe(1_500);
    expect(common.startedBy()).toBe(1_000);
  });

  it("counts only certificates of all n members, and waits for every node", () => {
    const common = commonCertificate(3);
    expect(
      common.seen([status(held(0, 1_000, 2)), status(held(0, 1_000, 2)), status(held(0, 1_000, 2))]),
    ).toBe(false);
    expect(common.seen([status(held(1, 3_000)), status(held(1, 3_100)), status()])).toBe(false);
    expect(common.found()).toBeNull();
    // The last node assembled epoch 1's certificate without running it: its start does not count.
    expect(common.seen([status(), status(), status(held(1, 3_300, 3, null))])).toBe(true);
    expect(common.found()?.epoch).toBe(1);
    expect(common.heldBy()).toBe(3_300);
    expect(common.startedBy()).toBe(2_600);
  });
});
