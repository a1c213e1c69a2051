import { join } from "node:path";
import type { Certificate, Contract } from "@walras/protocol";
import { type Cluster, waitFor } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateApiToken } from "../src/http/api-token.ts";
import { startOneMemberMarket } from "./one-member-market.ts";

let cluster: Cluster;
let url: string;

beforeAll(async () => {
  ({ cluster, url } = await startOneMemberMarket("dashboard-amended"));
});
afterAll(async () => cluster?.stop());

interface Listed {
  epoch: number;
  verification: { ok: boolean; error?: string };
  charges: { members: { fixedFee: number }[] };
  certificate: Certificate;
}

describe("the dashboard after an amendment", () => {
  it("verifies each certificate against the terms it names and charges it under them", async () => {
    // A one-member market: the member's own signature passes the amendment at once.
    const { token } = loadOrCreateApiToken(join(cluster.root, "node-0"));
    const res = await fetch(`${url}/amendments`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ fixed: 1 }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string; terms: Contract };

    const listed = async () =>
      ((await (await fetch(`${url}/certificates`)).json()) as { certificates: Listed[] }).certificates;
    await waitFor(async () => (await listed()).some((c) => c.certificate.commit.terms === id), {
      timeoutMs: 60_000,
      what: "a certificate of the amended terms",
    });

    const certificates = await listed();
    for (const c of certificates) expect(c.verification, `epoch ${c.epoch}`).toMatchObject({ ok: true });
    const before = certificates.find((c) => c.certificate.commit.terms === undefined);
    const after = certificates.find((c) => c.certificate.commit.terms === id);
    // One agent alone below capacity pays the fixed fee: 0.25 by the contract, 1 once amended.
    expect(before?.charges.members[0]?.fixedFee).toBe(0.25);
    expect(after?.charges.members[0]?.fixedFee).toBe(1);
  });
});
