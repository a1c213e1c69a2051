import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runCli } from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";

const TOKEN = "a".repeat(64);
const AMENDMENT = "1".repeat(64);
const OTHER = "2".repeat(64);

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

/**
 * A stand-in node whose approval of AMENDMENT made its quorum, after which its next slot began at
 * once under `termsAfter`: it answers the approval as a real node then does (the amendment is
 * pending no more, so null) and lists no amendment of the terms now in effect.
 */
async function nodeAfterApproval(termsAfter: string): Promise<string> {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "POST" && req.url === `/amendments/${AMENDMENT}/approve`)
      return json(202, { ok: true, amendment: null });
    if (req.method === "GET" && req.url === "/amendments")
      return json(200, { terms: termsAfter, amendments: [] });
    json(404, { error: "no such route" });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("walras contract approve", () => {
  it("an approval that completes the quorum says the amendment passed and is in effect, not that its signatures are unknown", async () => {
    const url = await nodeAfterApproval(AMENDMENT);
    const env = { WALRAS_API_TOKEN: TOKEN };
    const text = await runCli(["contract", "approve", AMENDMENT, "--node", url], { env });
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`approved amendment ${AMENDMENT}\n  passed: in effect now (pending no more)\n`);
    const json = await runCli(["contract", "approve", AMENDMENT, "--node", url, "--json"], { env });
    expect(JSON.parse(json.stdout)).toEqual({
      id: AMENDMENT,
      signers: [],
      needed: null,
      passed: true,
      inEffect: true,
    });
  });

  it("one that another amendment overtook says which terms are in effect instead", async () => {
    const url = await nodeAfterApproval(OTHER);
    const r = await runCli(["contract", "approve", AMENDMENT, "--node", url], {
      env: { WALRAS_API_TOKEN: TOKEN },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pending no more: the terms in effect are now ${OTHER}`);
  });
});
