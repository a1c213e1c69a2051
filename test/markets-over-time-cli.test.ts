import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commonCertificate } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  type Contract,
  certificateDigest,
  contractId,
  contractSchema,
} from "@walras/protocol";
import {
  cliFailure,
  fetchStatus,
  paperProfiles,
  referenceGap,
  runCli,
  startCliNode,
  type WalrasProcess,
  waitFor,
  writeCliMarket,
} from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { afterEarlierSteps } from "./scenario-steps.ts";

/**
 * Markets over time through the CLI, as an operator runs them (issue 12): four `walras node start`
 * processes and an observer on real ports; `walras agent update` re-clears the market,
 * `walras contract amend`/`approve` change its capacity by vote, a node stopped mid-ledger comes
 * back and catches up, and `walras ledger export`/`verify` check the whole history offline. Every
 * certified slot is checked against the reference solver on the bids and terms then in force.
 *
 * The processes start once, before every test (beforeAll). The bad-input test stands on its own:
 * it needs only the running nodes, and changes nothing. The history is one scenario: its steps run
 * in order, each only once every step before it passed, and say which one did not when they skip.
 */

interface RunningNode {
  readonly name: string;
  process: WalrasProcess;
  readonly peerId: string;
  httpUrl: string;
  readonly dataDir: string;
}

let dir: string;
let contractFile: string;
let contract: Contract;
/** The bids and terms in force: what every new certificate is checked against. */
const profiles = paperProfiles(4, 7);
let terms: Contract;
const nodes: RunningNode[] = [];
let observer: RunningNode;
let bootstrap: string | undefined;

const f = (name: string) => join(dir, name);

function nodeArgs(i: number, withAgent = true): string[] {
  return [
    "node",
    "start",
    "--contract",
    contractFile,
    ...(withAgent ? ["--agent", f(`a${i}.json`)] : []),
    "--data-dir",
    f(`d${i}`),
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--http",
    "0",
    "--log-level",
    "warn",
  ];
}

async function start(i: number, withAgent = true): Promise<RunningNode> {
  const node = await startCliNode([
    ...nodeArgs(i, withAgent),
    ...(bootstrap ? ["--bootstrap", bootstrap] : []),
  ]);
  bootstrap ??= node.multiaddr;
  return { ...node, name: `n${i}`, dataDir: f(`d${i}`) };
}

const status = (node: RunningNode) => fetchStatus(node.httpUrl);

async function certificateOf(node: RunningNode): Promise<Certificate> {
  const res = await fetch(`${node.httpUrl}/certificate`);
  expect(res.status).toBe(200);
  return (await res.json()) as Certificate;
}

/**
 * Waits until every node of `group` holds one certificate naming exactly the group, for an epoch
 * after `after`; returns it (as the first node serves it).
 */
async function commonCertificateAfter(group: readonly RunningNode[], after: number): Promise<Certificate> {
  const want = group.map((n) => n.peerId).sort();
  await waitFor(
    async () => {
      // Settled, not merely common: the founding certificate is followed at once by the slot that
      // promotes its members to voters, still on the old bids (protocol §9.1).
      const common = commonCertificate(await Promise.all(group.map(status)), want);
      return common !== null && common.epoch > after;
    },
    {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: `a certificate after epoch ${after} common to ${group.map((n) => n.name).join(",")}`,
    },
  );
  const cert = await certificateOf(group[0] as RunningNode);
  expect(cert.commit.epoch).toBeGreaterThan(after);
  return cert;
}

/** The certificate states the reference solver's equilibrium of these members' bids under `terms`. */
function expectReference(cert: Certificate, group: readonly RunningNode[]) {
  const agents = group.map((n) => ({ id: n.peerId, profile: profiles[nodes.indexOf(n)] as AgentProfile }));
  const gap = referenceGap(terms, agents, cert.commit);
  expect(gap).toMatchObject({ status: "exact", sameMembers: true });
  expect(gap.lowestPrice).toBeGreaterThan(0);
  expect(gap.price).toBeLessThan(1e-6);
  expect(gap.allocation).toBeLessThan(1e-6);
}

/** A CLI failure: exactly one line on stderr, nothing on stdout, this exit code. */
async function expectError(args: string[], code: 1 | 2, message: RegExp | string) {
  const line = await cliFailure(args, code, { cwd: dir });
  if (typeof message === "string") expect(line).toContain(message);
  else expect(line).toMatch(message);
}

async function runOk(args: string[]) {
  const r = await runCli(args, { cwd: dir });
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

/** The agent's bid as its node runs it (GET /agent with the node's token). */
async function runningProfile(node: RunningNode): Promise<AgentProfile> {
  const token = readFileSync(join(node.dataDir, "api.token"), "utf8").trim();
  const res = await fetch(`${node.httpUrl}/agent`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as AgentProfile;
}

/** The node has the amendment (gossip brought the proposal). */
async function knowsAmendment(node: RunningNode, id: string): Promise<boolean> {
  const res = await fetch(`${node.httpUrl}/amendments`);
  const body = (await res.json()) as { amendments: { id: string }[] };
  return body.amendments.some((a) => a.id === id);
}

let last: Certificate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "walras-mot-cli-"));
  contractFile = f("contract.json");
  contract = await writeCliMarket(dir, { name: "markets-over-time", capacity: 5, minMembers: 4, profiles });
  terms = contract;
  nodes.push(await start(1));
  nodes.push(...(await Promise.all([start(2), start(3), start(4)])));
  observer = await start(5, false);
  // The test that used to start them had the test timeout (120 s), not the hooks' 60 s.
}, 120_000);

afterAll(async () => {
  await Promise.all([...nodes, ...(observer ? [observer] : [])].map((n) => n.process.stop(5_000)));
  rmSync(dir, { recursive: true, force: true });
});

describe("markets over time through the CLI: bad input changes nothing", () => {
  it("`agent update` with bad input: one line, exit 2 (or 1 where the node cannot take a bid), and the running bid is kept", async () => {
    const n2 = nodes[1] as RunningNode;
    const on = ["agent", "update", "--node", n2.httpUrl, "--data-dir", n2.dataDir];
    // Its precondition: a slot certified and settled, which nothing below may move on from.
    const settled = await commonCertificateAfter(nodes, -1);
    const running = await runningProfile(n2);
    if (running.valuation.kind !== "log")
      throw new Error(`n2's valuation is ${running.valuation.kind}, not log`);
    await expectError(
      [...on, "--valuation", "log:alpha=-5"],
      2,
      /: profile: valuation\.alpha: .* \(HTTP 400\)$/,
    );
    await expectError(
      [...on, "--footprint", "1,2"],
      2,
      "profile: footprint: 2 entries for the contract's 1 resources (HTTP 400)",
    );
    await expectError(
      [...on, "--valuation", "log:alpha=x"],
      2,
      '--valuation log:alpha=x: "alpha=x" is not key=number',
    );
    await expectError([...on], 2, "agent update: give at least one of --valuation, --cost, --footprint");
    await expectError(
      [
        "agent",
        "update",
        "--node",
        n2.httpUrl,
        "--data-dir",
        (nodes[0] as RunningNode).dataDir,
        "--cost",
        "linear:beta=1",
      ],
      2,
      /the node refused the token from \S+d1\/api\.token \(HTTP 401\)$/,
    );
    await expectError(
      ["agent", "update", "--node", n2.httpUrl, "--data-dir", f("nowhere"), "--cost", "linear:beta=1"],
      2,
      /nowhere\/api\.token \(--data-dir\): no such file/,
    );
    writeFileSync(f("bad.token"), "not a token\n");
    await expectError(
      ["agent", "update", "--node", n2.httpUrl, "--token-file", f("bad.token"), "--cost", "linear:beta=1"],
      2,
      "bad.token: not a walras API token (64 hex digits)",
    );
    await expectError(
      [
        "agent",
        "update",
        "--node",
        observer.httpUrl,
        "--data-dir",
        observer.dataDir,
        "--cost",
        "linear:beta=1",
      ],
      1,
      "this node is an observer: it has no agent (HTTP 409)",
    );
    await expectError(
      [
        "agent",
        "update",
        "--node",
        "http://127.0.0.1:1",
        "--data-dir",
        n2.dataDir,
        "--cost",
        "linear:beta=1",
      ],
      1,
      /^http:\/\/127\.0\.0\.1:1: no answer/,
    );
    // The token from the environment, as a script would pass it: a good request, so it counts.
    const bid = `log:alpha=${running.valuation.alpha}`;
    const same = await runCli(["agent", "update", "--node", n2.httpUrl, "--valuation", bid], {
      cwd: dir,
      env: { WALRAS_API_TOKEN: readFileSync(join(n2.dataDir, "api.token"), "utf8").trim() },
    });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("the agent already bids this; nothing sent");
    // Nothing changed: the node runs the bid it had, and no slot was opened.
    expect(await runningProfile(n2)).toEqual(running);
    expect((await status(n2))?.certificate?.digest).toBe(certificateDigest(settled));
  });
});

describe("markets over time through the CLI (real processes, real ports)", {
  concurrent: false,
  shuffle: false,
}, () => {
  it("4 `node start` processes and an observer: the first slot is certified at the reference equilibrium", async (context) => {
    afterEarlierSteps(context);
    last = await commonCertificateAfter(nodes, -1);
    expectReference(last, nodes);
    // The ledger starts here: this certificate, or the founding epoch's just before it (the
    // members are promoted to voters by a slot of their own once it is certified, protocol §9.1,
    // and a poll may first see that one).
    const res = await fetch(`${(nodes[0] as RunningNode).httpUrl}/ledger`);
    const ledger = (await res.json()) as { entries: { type: string; certificate?: Certificate }[] };
    const certs = ledger.entries.flatMap((e) => (e.certificate ? [e.certificate] : []));
    const at = certs.findIndex((c) => certificateDigest(c) === certificateDigest(last));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThanOrEqual(1);
    expect(certs[0]?.commit.previous).toBeNull();
    if (at === 1) expect(last.commit.previous).toBe(certificateDigest(certs[0] as Certificate));
  });

  it("`agent update` on one node opens a new slot, certified at the reference equilibrium of the new bids and linked to the last", async (context) => {
    afterEarlierSteps(context);
    const n2 = nodes[1] as RunningNode;
    const r = await runOk([
      "agent",
      "update",
      "--node",
      n2.httpUrl,
      "--data-dir",
      n2.dataDir,
      "--valuation",
      "log:alpha=25",
    ]);
    // The bid it had, from the profile the node was started with (four significant digits).
    const was = (profiles[1] as AgentProfile).valuation;
    if (was.kind !== "log") throw new Error(`agent 1's valuation is ${was.kind}, not log`);
    expect(r.stdout).toContain(`valuation  log α=${Number(was.alpha.toPrecision(4))} → log α=25\n`);
    expect(r.stdout).toContain("takes effect at the next slot");
    profiles[1] = { ...(profiles[1] as AgentProfile), valuation: { kind: "log", alpha: 25 } };
    const before = last;
    last = await commonCertificateAfter(nodes, before.commit.epoch);
    expectReference(last, nodes);
    expect(last.commit.prices[0]).toBeGreaterThan(before.commit.prices[0] as number);
    expect(last.commit.previous).toBe(certificateDigest(before));
    console.info(
      `re-clearing after a rebid: epoch ${last.commit.epoch} certified at round ${last.commit.round} (${last.commit.round + 1} rounds, warm start from ${before.commit.prices[0]})`,
    );
  });

  it("`contract amend` + `approve` by a quorum change the capacity at the next slot, and the new equilibrium follows", async (context) => {
    afterEarlierSteps(context);
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const amend = await runOk([
      "contract",
      "amend",
      "--node",
      n1.httpUrl,
      "--data-dir",
      n1.dataDir,
      "--resource",
      "capacity=3",
      "--json",
    ]);
    const proposed = JSON.parse(amend.stdout) as {
      id: string;
      terms: Contract;
      needed: number;
      signers: string[];
    };
    expect(proposed.id).toBe(contractId(contractSchema.parse(proposed.terms)));
    expect(proposed.terms.resources[0]?.capacity).toBe(3);
    expect(proposed.terms.amends).toBe(contractId(contract));
    expect(proposed.needed).toBe(3); // 2/3 of 4 members, rounded up
    expect(proposed.signers).toEqual([n1.peerId]);

    // Refused: from an observer (not a member), the same terms again, an unknown resource.
    await expectError(
      [
        "contract",
        "amend",
        "--node",
        observer.httpUrl,
        "--data-dir",
        observer.dataDir,
        "--fee-per-unit",
        "1",
      ],
      1,
      "only a member of the current epoch may propose an amendment (HTTP 409)",
    );
    await expectError(
      ["contract", "amend", "--node", n2.httpUrl, "--data-dir", n2.dataDir, "--resource", "capacity=5"],
      1,
      "the amendment changes nothing (HTTP 409)",
    );
    await expectError(
      ["contract", "amend", "--node", n2.httpUrl, "--data-dir", n2.dataDir, "--resource", "gpu=2"],
      2,
      "resource gpu: the contract has no such resource (HTTP 400)",
    );
    await expectError(
      ["contract", "amend", "--node", n2.httpUrl, "--data-dir", n2.dataDir],
      2,
      "contract amend: give at least one of --resource, --fee-per-unit, --fee-fixed",
    );
    await expectError(
      ["contract", "approve", "--node", n2.httpUrl, "--data-dir", n2.dataDir, "0".repeat(64)],
      2,
      `no amendment ${"0".repeat(64)} of the terms in effect is known here (HTTP 404)`,
    );
    await expectError(
      ["contract", "approve", "--node", n2.httpUrl, "--data-dir", n2.dataDir, "abc"],
      2,
      "contract approve abc: an amendment id is 64 hex digits",
    );

    // Gossip brings the proposal to the others; then one approval is not yet a quorum.
    await waitFor(() => knowsAmendment(n2, proposed.id), { what: "the proposal at n2" });
    await expectError(
      ["contract", "approve", "--node", observer.httpUrl, "--data-dir", observer.dataDir, proposed.id],
      1,
      "only a member of the current epoch may approve (HTTP 409)",
    );
    const first = await runOk([
      "contract",
      "approve",
      "--node",
      n2.httpUrl,
      "--data-dir",
      n2.dataDir,
      proposed.id,
    ]);
    expect(first.stdout).toContain("signed by 2 of the 3 members needed");
    const listed = JSON.parse(
      (await runOk(["contract", "amendments", "--node", n1.httpUrl, "--json"])).stdout,
    ) as { terms: string };
    expect(listed.terms).toBe(contractId(contract));

    await waitFor(() => knowsAmendment(n3, proposed.id), { what: "the proposal at n3" });
    const second = await runOk([
      "contract",
      "approve",
      "--node",
      n3.httpUrl,
      "--data-dir",
      n3.dataDir,
      proposed.id,
    ]);
    expect(second.stdout).toContain("passed, takes effect at the next slot");

    terms = contractSchema.parse(proposed.terms);
    const before = last;
    last = await commonCertificateAfter(nodes, before.commit.epoch);
    expect(last.commit.terms).toBe(proposed.id);
    expect(last.commit.previous).toBe(certificateDigest(before));
    expectReference(last, nodes);
    expect(last.commit.prices[0]).toBeGreaterThan(before.commit.prices[0] as number);
  });

  it("a node stopped mid-ledger and restarted on its data dir after more slots catches up: its ledger equals the others'", async (context) => {
    afterEarlierSteps(context);
    const n4 = nodes[3] as RunningNode;
    expect(await n4.process.stop()).toBe(0);
    const three = nodes.slice(0, 3);
    last = await commonCertificateAfter(three, last.commit.epoch);
    expectReference(last, three);
    // One more slot while it is away: a new bid.
    const n3 = nodes[2] as RunningNode;
    await runOk([
      "agent",
      "update",
      "--node",
      n3.httpUrl,
      "--data-dir",
      n3.dataDir,
      "--cost",
      "linear:beta=1",
    ]);
    profiles[2] = { ...(profiles[2] as AgentProfile), cost: { kind: "linear", beta: 1 } };
    const missed = await commonCertificateAfter(three, last.commit.epoch);
    expectReference(missed, three);

    const again = await start(4);
    const restartedAt = Date.now();
    expect(again.peerId).toBe(n4.peerId);
    n4.process = again.process;
    n4.httpUrl = again.httpUrl;
    // It catches up on the slots it missed (over the sync protocol) and rejoins.
    const ledgerOf = async (n: RunningNode) => {
      const r = await runCli(["ledger", "export", "--node", n.httpUrl]);
      return r.code === 0 ? r.stdout : null;
    };
    const missedDigest = certificateDigest(missed);
    await waitFor(
      async () => {
        const mine = await ledgerOf(n4);
        if (mine === null) return false;
        const entries = (JSON.parse(mine) as { entries: { type: string; certificate?: Certificate }[] })
          .entries;
        return entries.some((e) => e.certificate && certificateDigest(e.certificate) === missedDigest);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "n4's ledger to reach the slot it missed" },
    );
    console.info(
      `restarted node caught up on the ledger it missed ${Date.now() - restartedAt} ms after its API came up`,
    );
    last = await commonCertificateAfter(nodes, missed.commit.epoch);
    expectReference(last, nodes);
  });

  it("`ledger export` from every node gives one ledger; `ledger verify` passes, and any tampering names the bad entry", async (context) => {
    afterEarlierSteps(context);
    // A node that slept through slots may certify the next one before it holds the certificates
    // between: it fetches them in the background (ledger catch-up), and until then its ledger
    // starts at the newest one (a CI run under load exported "epochs 7–7" from the restarted
    // node). Every node's ledger must reach back to the founding certificate first.
    const reachesFounding = async (n: RunningNode) => {
      const res = await fetch(`${n.httpUrl}/ledger`);
      const certs = ((await res.json()) as { entries: { certificate?: Certificate }[] }).entries.flatMap(
        (e) => (e.certificate ? [e.certificate] : []),
      );
      return certs[0]?.commit.previous === null && (certs.at(-1)?.commit.epoch ?? -1) >= last.commit.epoch;
    };
    await waitFor(async () => (await Promise.all(nodes.map(reachesFounding))).every(Boolean), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: "every node's ledger to reach back to the founding certificate",
    });
    const files = await Promise.all(
      nodes.map(async (n, i) => {
        const file = f(`ledger-${i + 1}.json`);
        const r = await runOk(["ledger", "export", "--node", n.httpUrl, "--out", file]);
        expect(r.stderr).toMatch(/^ledger of \d+ certificates \(epochs 0–\d+\) and 1 amendment written to /);
        return file;
      }),
    );
    const texts = files.map((file) => readFileSync(file, "utf8"));
    for (const t of texts) expect(t).toBe(texts[0]);
    const ledger = JSON.parse(texts[0] as string) as {
      contract: string;
      entries: { type: string; certificate?: Certificate; charges?: { members: { total: number }[] } }[];
    };
    const certs = ledger.entries.filter((e) => e.type === "certificate");
    expect(certs.at(-1)?.certificate?.commit.epoch).toBe(last.commit.epoch);

    // The restarted node's own export (equal to the others' above) verifies.
    const ok = await runOk(["ledger", "verify", files[3] as string, "--contract", contractFile]);
    expect(ok.stdout).toMatch(
      new RegExp(`^OK: ${certs.length} certificates, epochs 0–${last.commit.epoch}, 1 amendment: `),
    );
    expect(ok.stdout).toContain(`terms at the end ${contractId(terms)}: capacity=3; fees 0.5/unit, fixed 0`);
    expect(ok.stdout).toContain("amendment");
    const summary = JSON.parse(
      (await runOk(["ledger", "verify", files[0] as string, "--contract", contractFile, "--json"])).stdout,
    );
    expect(summary.certificates).toBe(certs.length);
    expect(summary.termsId).toBe(contractId(terms));
    // The total charged is the sum of each slot's totals, recomputed independently here.
    const total = certs.reduce((sum, e) => {
      const c = e.certificate as Certificate;
      const slotTerms = c.commit.terms ? terms : contract;
      return (
        sum +
        c.commit.allocations.reduce(
          (s, a) =>
            s +
            (c.commit.prices[0] as number) * (a.footprint[0] as number) * a.x +
            slotTerms.fees.perUnit * a.x,
          0,
        )
      );
    }, 0);
    expect(Math.abs(summary.totals.total - total)).toBeLessThan(1e-9 * Math.max(1, total));

    const amendmentAt = ledger.entries.findIndex((e) => e.type === "amendment");
    const lastCert = ledger.entries.length - 1;
    const tamper = async (
      name: string,
      change: (l: typeof ledger) => void,
      code: 1 | 2,
      message: RegExp | string,
    ) => {
      const copy = structuredClone(ledger);
      change(copy);
      writeFileSync(f(name), JSON.stringify(copy));
      await expectError(["ledger", "verify", f(name), "--contract", contractFile], code, message);
    };
    // A charge.
    await tamper(
      "charge.json",
      (l) => {
        const m = l.entries[1]?.charges?.members[0] as { total: number };
        m.total += 0.01;
      },
      1,
      /^\S+charge\.json: does not verify: entry 1 \(certificate, epoch \d+\): charges: /,
    );
    // A link: a certificate left out, so the next one names one that is not before it.
    expect(ledger.entries[lastCert - 1]?.type).toBe("certificate");
    await tamper(
      "link.json",
      (l) => l.entries.splice(lastCert - 1, 1),
      1,
      new RegExp(
        `link\\.json: does not verify: entry ${lastCert - 1} \\(certificate, epoch ${last.commit.epoch}\\): commit\\.previous is [0-9a-f]{64}, the certificate before is [0-9a-f]{64}$`,
      ),
    );
    // A certificate: a price its signers did not sign.
    await tamper(
      "certificate.json",
      (l) => {
        const c = l.entries[lastCert]?.certificate as { commit: { prices: number[] } };
        c.commit.prices[0] = (c.commit.prices[0] as number) * 1.01;
      },
      1,
      new RegExp(
        `certificate\\.json: does not verify: entry ${lastCert} \\(certificate, epoch \\d+\\): signatures\\[0\\]: signature by \\S+ does not verify$`,
      ),
    );
    // An amendment with too few signatures.
    await tamper(
      "amendment.json",
      (l) => {
        const a = l.entries[amendmentAt] as unknown as { signatures: unknown[] };
        a.signatures = a.signatures.slice(0, 1);
      },
      1,
      new RegExp(
        `amendment\\.json: does not verify: entry ${amendmentAt} \\(amendment [0-9a-f]{12}…\\): 1 of 4 members signed, quorum is 3$`,
      ),
    );
    // Bad files: named with the field, exit 2.
    await tamper(
      "field.json",
      (l) => ((l.entries[0] as { type: string }).type = "receipt"),
      2,
      /field\.json: entries\[0\]\.type: /,
    );
    writeFileSync(f("notjson.json"), "{ nope");
    await expectError(
      ["ledger", "verify", f("notjson.json"), "--contract", contractFile],
      2,
      /notjson\.json: not valid JSON: /,
    );
    await expectError(
      ["ledger", "verify", f("absent.json"), "--contract", contractFile],
      2,
      /absent\.json: no such file$/,
    );
    await expectError(
      ["ledger", "verify", files[0] as string, "--contract", f("absent.json")],
      2,
      /absent\.json: no such file$/,
    );
    // The ledger of another market.
    const other = f("other-contract.json");
    writeFileSync(other, JSON.stringify({ ...contract, name: "another market" }));
    await expectError(
      ["ledger", "verify", files[0] as string, "--contract", other],
      1,
      new RegExp(
        `does not verify: contract: the ledger is of ${contractId(contract)}, not ${contractId(contractSchema.parse({ ...contract, name: "another market" }))}$`,
      ),
    );
    // Export: an unreachable node, and an --out that cannot be written, leave nothing behind.
    await expectError(
      ["ledger", "export", "--node", "http://127.0.0.1:1", "--out", f("never.json")],
      1,
      /no answer/,
    );
    await expectError(
      ["ledger", "export", "--node", (nodes[0] as RunningNode).httpUrl, "--out", f("no/such/dir/l.json")],
      1,
      /no\/such\/dir\/l\.json: cannot write: /,
    );
    expect(() => readFileSync(f("never.json"))).toThrow();
  });
});
