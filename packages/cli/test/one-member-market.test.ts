import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@walras/node";
import { type Certificate, type Contract, contractId, contractSchema, paperProfiles } from "@walras/protocol";
import {
  type CliNode,
  cliFailure,
  runCli,
  startCliNode,
  startWalras,
  waitFor,
  writeCliMarket,
} from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * One `walras node start` process founding a one-member market: the proposer's own signature is a
 * quorum, so an amendment passes at once; certificates of amended terms follow; and `testnet join`
 * against it must not clobber a data dir that serves another contract.
 */

let dir: string;
let contract: Contract;
let node: CliNode;
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "walras-one-member-"));
  contract = await writeCliMarket(dir, {
    name: "one member",
    capacity: 5,
    minMembers: 1,
    profiles: paperProfiles(1, 3),
  });
  node = await startCliNode([
    "node",
    "start",
    "--contract",
    f("contract.json"),
    "--agent",
    f("a1.json"),
    "--data-dir",
    f("d1"),
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--http",
    "0",
    "--log-level",
    "warn",
  ]);
}, 120_000);

afterAll(async () => {
  await node?.process.stop(5_000);
  rmSync(dir, { recursive: true, force: true });
});

async function certificate(): Promise<Certificate | null> {
  const res = await fetch(`${node.httpUrl}/certificate`, { signal: AbortSignal.timeout(2_000) });
  return res.ok ? ((await res.json()) as Certificate) : null;
}

async function run(args: string[]) {
  const r = await runCli(args, { cwd: dir });
  expect(r.code, `walras ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

const onNode = () => ["--node", node.httpUrl, "--data-dir", f("d1")];

/**
 * Runs a `testnet join` expected to be refused: exit 2, nothing on stdout, one line on stderr
 * (returned). Run as a long-running process, since a join that is not refused runs a node until
 * stopped: that is stopped here, and the test fails, instead of waiting on it.
 */
async function refused(args: string[]): Promise<string> {
  const p = startWalras(args);
  try {
    const code = await Promise.race([
      p.exited,
      p.waitForLine(/^walras node \S+ listening on /m, 60_000).then(
        () => "a running node",
        () => p.exited,
      ),
    ]);
    expect(code, p.stderr()).toBe(2);
    expect(p.stdout()).toBe("");
    const lines = p.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    return lines[0] as string;
  } finally {
    await p.stop(5_000);
  }
}

describe("a one-member market through the CLI", () => {
  it("`contract amend` passes at once and says so; certificates of the amended terms follow, and `certificate verify` says which terms they need", async () => {
    await waitFor(async () => (await certificate()) !== null, {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: "the first certificate",
    });
    const json = await run(["contract", "amend", ...onNode(), "--fee-fixed", "1", "--json"]);
    const first = JSON.parse(json.stdout) as { id: string; terms: Contract; passed: boolean };
    expect(first.id).toBe(contractId(contractSchema.parse(first.terms)));
    expect(first.passed).toBe(true);
    // Wait for the first amendment to be in effect: the second amends those terms.
    await waitFor(
      async () => {
        const res = await fetch(`${node.httpUrl}/amendments`);
        return ((await res.json()) as { terms: string }).terms === first.id;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "the first amendment in effect" },
    );
    const text = await run(["contract", "amend", ...onNode(), "--fee-fixed", "2"]);
    const id = /^amendment ([0-9a-f]{64})$/m.exec(text.stdout)?.[1] as string;
    expect(text.stdout).toMatch(/^ {2}passed at once \(pending no more\): /m);
    expect(text.stdout).not.toContain("others approve it with");
    const terms = contractSchema.parse({
      ...first.terms,
      fees: { ...first.terms.fees, fixed: 2 },
      amends: first.id,
    });
    expect(id).toBe(contractId(terms));

    await waitFor(async () => (await certificate())?.commit.terms === id, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "a certificate of the amended terms",
    });
    await run(["certificate", "export", "--node", node.httpUrl, "--out", f("cert.json")]);
    const line = await cliFailure(
      ["certificate", "verify", f("cert.json"), "--contract", f("contract.json")],
      2,
      { cwd: dir },
    );
    expect(line).toBe(
      `${f("cert.json")}: the certificate is for amended terms ${id} of this contract: verify the ledger (walras ledger export, then walras ledger verify --contract ${f("contract.json")}), which checks the amendments, or pass those terms as --contract`,
    );
    expect(line).not.toMatch(/is not these terms/);
    writeFileSync(f("terms.json"), JSON.stringify(terms));
    const ok = await run(["certificate", "verify", f("cert.json"), "--contract", f("terms.json")]);
    expect(ok.stdout).toMatch(/^OK: 1 of 1 members signed/);
    // The contract of another market is still just that.
    writeFileSync(f("other.json"), JSON.stringify({ ...contract, name: "another market" }));
    const other = await cliFailure(
      ["certificate", "verify", f("cert.json"), "--contract", f("other.json")],
      1,
      { cwd: dir },
    );
    expect(other).toMatch(/does not verify: commit\.terms: /);

    // The node itself names the id of an amendment that passed at once (it used to look the id up
    // among the pending ones, where such an amendment no longer is, and answer null).
    const token = readFileSync(f("d1/api.token"), "utf8").trim();
    const res = await fetch(`${node.httpUrl}/amendments`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ fixed: 3 }),
    });
    expect(res.status).toBe(202);
    const posted = (await res.json()) as { id: string | null; terms: Contract };
    expect(posted.id).toBe(contractId(contractSchema.parse(posted.terms)));
  });

  it("`testnet join` refuses a data dir of another contract before writing anything to it", async () => {
    const other = contractSchema.parse({ ...contract, name: "another market" });
    const otherText = `${JSON.stringify(other, null, 2)}\n`;
    const join1 = f("join-file");
    mkdirSync(join1);
    writeFileSync(join(join1, "contract.json"), otherText);
    const args = (dataDir: string) => [
      "testnet",
      "join",
      node.multiaddr,
      "--agent",
      f("a1.json"),
      "--data-dir",
      dataDir,
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--timeout-ms",
      "20000",
    ];
    const byFile = await refused(args(join1));
    expect(byFile).toBe(
      `${join(join1, "contract.json")}: the data dir holds contract ${contractId(other)}, not ${contractId(contract)} (the network's); use another --data-dir`,
    );
    expect(readFileSync(join(join1, "contract.json"), "utf8")).toBe(otherText);

    // A data dir whose store was claimed for another contract, with no contract.json in it.
    const join2 = f("join-store");
    const store = openStore(join2);
    store.saveState("contractId", contractId(other));
    store.close();
    const byStore = await refused(args(join2));
    expect(byStore).toBe(
      `${join2}: data dir belongs to contract ${contractId(other)}, not ${contractId(contract)} (the network's); use another --data-dir`,
    );
    expect(existsSync(join(join2, "contract.json"))).toBe(false);
  });
});
