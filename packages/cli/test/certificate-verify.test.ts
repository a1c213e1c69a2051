import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lyingMarket, runLyingMarket } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `certificate verify` on an approximate certificate says why the epoch stopped looking. The
 * certificate comes from a simulated market with a member whose demands alternate every round,
 * which the stall rule ends flagged approximate ("too-slow").
 */
const dir = mkdtempSync(join(tmpdir(), "walras-cert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("certificate verify", () => {
  it("names the stall rule's reason for an approximate certificate, in text and JSON", async () => {
    const { contract, profiles } = lyingMarket();
    const { certificate } = runLyingMarket(contract, profiles, "alternating x", 1);
    expect(certificate?.commit.reason).toBe("too-slow");
    writeFileSync(join(dir, "contract.json"), JSON.stringify(contract));
    writeFileSync(join(dir, "cert.json"), JSON.stringify(certificate));
    const args = ["certificate", "verify", join(dir, "cert.json"), "--contract", join(dir, "contract.json")];
    const text = await runCli(args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      "(approximate: no exact clearing price; the market stopped converging fast enough)",
    );
    const json = await runCli([...args, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, approximate: true, reason: "too-slow" });
  });
});
