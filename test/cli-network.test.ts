import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentProfile, type Contract, contractId, contractSchema } from "@walras/protocol";
import {
  fetchStatus,
  nodeAddresses,
  paperProfiles,
  referenceGap,
  runCli,
  startWalras,
  type WalrasProcess,
  waitFor,
  writeCliMarket,
} from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The CLI as an operator uses it, in real processes on real ports: four `walras node start`
 * processes, a fifth that joins with `walras testnet join` from the bootstrap multiaddr alone,
 * certificates exported and verified by the CLI, and a graceful stop.
 */

interface RunningNode {
  readonly name: string;
  readonly process: WalrasProcess;
  readonly peerId: string;
  readonly multiaddr: string;
  readonly httpUrl: string;
  readonly profile: AgentProfile;
}

let dir: string;
let contract: Contract;
const profiles = paperProfiles(5, 7);
/** Every process started, stopped after the last test. */
const processes: WalrasProcess[] = [];
/** The shared setup every test relies on: a1..a4, started with `node start` (beforeAll). */
let four: RunningNode[];

async function started(name: string, process: WalrasProcess, profile: AgentProfile): Promise<RunningNode> {
  processes.push(process);
  return { ...(await nodeAddresses(process)), name, profile };
}

const status = (node: RunningNode) => fetchStatus(node.httpUrl);

/** Every one of `group` holds the same certificate, naming exactly `group`'s peer ids. */
async function waitForCommonCertificate(group: readonly RunningNode[], timeoutMs = 60_000, why = "") {
  const want = group.map((n) => n.peerId).sort();
  let digest = "";
  await waitFor(
    async () => {
      const statuses = await Promise.all(group.map(status));
      const certs = statuses.map((s) => s?.certificate ?? null);
      const first = certs[0];
      if (!first || JSON.stringify([...first.members].sort()) !== JSON.stringify(want)) return false;
      digest = first.digest;
      return certs.every((c) => c?.digest === first.digest);
    },
    {
      timeoutMs,
      intervalMs: 100,
      what: `${why}a common certificate for ${group.map((n) => n.name).join(",")}`,
    },
  );
  return digest;
}

/** The certificate a node serves against the reference solver on the group's combined scenario. */
async function expectReferenceEquilibrium(group: readonly RunningNode[]) {
  const res = await fetch(`${group[0]?.httpUrl}/certificate`);
  const cert = (await res.json()) as {
    commit: { prices: number[]; allocations: { agent: string; x: number }[] };
  };
  const gap = referenceGap(
    contract,
    group.map((n) => ({ id: n.peerId, profile: n.profile })),
    cert.commit,
  );
  expect(gap).toMatchObject({ status: "exact", sameMembers: true });
  expect(gap.lowestPrice).toBeGreaterThan(0);
  expect(gap.price).toBeLessThan(1e-6);
  expect(gap.allocation).toBeLessThan(1e-6);
}

const nodeArgs = (i: number) => [
  "node",
  "start",
  "--contract",
  join(dir, "contract.json"),
  "--agent",
  join(dir, `a${i}.json`),
  "--data-dir",
  join(dir, `d${i}`),
  "--listen",
  "/ip4/127.0.0.1/tcp/0",
  "--http",
  "0",
  "--log-level",
  "warn",
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "walras-cli-net-"));
  contract = await writeCliMarket(dir, { name: "cli-network-test", capacity: 7, minMembers: 4, profiles });
  const first = await started("a1", startWalras(nodeArgs(1)), profiles[0] as AgentProfile);
  four = [
    first,
    ...(await Promise.all([
      started(
        "a2",
        startWalras([...nodeArgs(2), "--bootstrap", first.multiaddr]),
        profiles[1] as AgentProfile,
      ),
      started(
        "a3",
        startWalras([...nodeArgs(3), "--bootstrap", first.multiaddr]),
        profiles[2] as AgentProfile,
      ),
      // Everything from the environment, as the Docker image runs it.
      started(
        "a4",
        startWalras(["node", "start"], {
          WALRAS_CONTRACT: join(dir, "contract.json"),
          WALRAS_AGENT: join(dir, "a4.json"),
          WALRAS_DATA_DIR: join(dir, "d4"),
          WALRAS_KEY: join(dir, "a4.key"),
          WALRAS_LISTEN: "/ip4/127.0.0.1/tcp/0",
          WALRAS_BOOTSTRAP: first.multiaddr,
          WALRAS_HTTP_PORT: "0",
          WALRAS_HTTP_HOST: "127.0.0.1",
          WALRAS_LOG_LEVEL: "warn",
        }),
        profiles[3] as AgentProfile,
      ),
    ])),
  ];
  // The test that used to start them had the test timeout (120 s), not the hooks' 60 s.
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop(5_000)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let fifth: Promise<RunningNode> | undefined;
/**
 * a5, joined with `testnet join` from a1's multiaddr alone: started once, by the first test that
 * needs a fifth member, so each such test can run on its own (`-t`).
 */
function joinFifth(): Promise<RunningNode> {
  fifth ??= started(
    "a5",
    startWalras([
      "testnet",
      "join",
      (four[0] as RunningNode).multiaddr,
      "--agent",
      join(dir, "a5.json"),
      "--contract-id",
      contractId(contract),
      "--data-dir",
      join(dir, "d5"),
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--http",
      "0",
      "--log-level",
      "warn",
    ]),
    profiles[4] as AgentProfile,
  );
  return fifth;
}

describe("the walras CLI runs a network (real processes, real ports)", () => {
  it("4 `node start` processes converge to the 4-agent reference equilibrium", async () => {
    expect(readFileSync(join(dir, "a4.key")).length).toBeGreaterThan(0);
    await waitForCommonCertificate(four);
    await expectReferenceEquilibrium(four);
  });

  it("`testnet join` refuses a wrong contract id and an unreachable peer", async () => {
    const bootstrap = (four[0] as RunningNode).multiaddr;
    const wrong = await runCli([
      "testnet",
      "join",
      bootstrap,
      "--agent",
      join(dir, "a5.json"),
      "--contract-id",
      "0".repeat(64),
      "--data-dir",
      join(dir, "wrong"),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toContain(
      `serves contract ${contractId(contract)}, not the requested ${"0".repeat(64)}`,
    );

    const peer = (four[0] as RunningNode).peerId;
    const unreachable = await runCli([
      "testnet",
      "join",
      `/ip4/127.0.0.1/tcp/1/p2p/${peer}`,
      "--agent",
      join(dir, "a5.json"),
      "--timeout-ms",
      "3000",
      "--data-dir",
      join(dir, "unreachable"),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/1\/p2p\/\S+: no answer: /);
    expect(unreachable.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("`testnet join` adds a 5th node from the bootstrap multiaddr alone; all 5 reach the 5-agent equilibrium, and its certificate verifies", async () => {
    const a5 = await joinFifth();
    const five = [...four, a5];
    expect(a5.process.stdout()).toContain(`joining contract "cli-network-test"`);
    expect(a5.process.stdout()).toContain(contractId(contract));
    const saved = contractSchema.parse(JSON.parse(readFileSync(join(dir, "d5", "contract.json"), "utf8")));
    expect(contractId(saved)).toBe(contractId(contract));

    await waitForCommonCertificate(five);
    await expectReferenceEquilibrium(five);

    const certFile = join(dir, "cert.json");
    const exported = await runCli([
      "certificate",
      "export",
      "--node",
      (five[2] as RunningNode).httpUrl,
      "--out",
      certFile,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const verified = await runCli([
      "certificate",
      "verify",
      certFile,
      "--contract",
      join(dir, "contract.json"),
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: [45] of 5 members signed \(quorum 4\)/);

    // One changed price: the signatures no longer cover the commit.
    const cert = JSON.parse(readFileSync(certFile, "utf8"));
    cert.commit.prices[0] *= 1.01;
    writeFileSync(join(dir, "tampered.json"), JSON.stringify(cert));
    const tampered = await runCli([
      "certificate",
      "verify",
      join(dir, "tampered.json"),
      "--contract",
      join(dir, "contract.json"),
    ]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(
      /tampered\.json: does not verify: signatures\[0\]: signature by \S+ does not verify/,
    );
  });

  it("a graceful stop (SIGTERM) of one node leads the other 4 to the 4-agent equilibrium", async () => {
    const five = [...four, await joinFifth()];
    // Its precondition, whether or not the test before ran: five members certified together.
    await waitForCommonCertificate(five, 60_000, "precondition: five members before one leaves: ");
    const leaving = five[1] as RunningNode;
    const rest = five.filter((n) => n !== leaving);
    expect(await leaving.process.stop()).toBe(0);
    await waitForCommonCertificate(rest);
    await expectReferenceEquilibrium(rest);
    const s = await status(rest[0] as RunningNode);
    expect(s?.members).not.toContain(leaving.peerId);
  });
});
