import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateKey } from "@walras/node";
import { agentProfileSchema, contractId, contractSchema } from "@walras/protocol";
import { cliFailure, runCli } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "walras-cli-input-"));
  writeFileSync(join(dir, "bad.json"), "{ not json");
  writeFileSync(
    join(dir, "contract.json"),
    JSON.stringify({
      name: "t",
      resources: [{ id: "capacity", capacity: 5 }],
      fees: { perUnit: 0.5, fixed: 0 },
    }),
  );
  writeFileSync(
    join(dir, "agent.json"),
    JSON.stringify({
      valuation: { kind: "log", alpha: 10 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1],
    }),
  );
  writeFileSync(
    join(dir, "agent2.json"),
    JSON.stringify({
      valuation: { kind: "log", alpha: 10 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1, 1],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f = (name: string) => join(dir, name);

/** One line on stderr, nothing on stdout, the expected exit code. */
async function expectError(args: string[], code: 1 | 2, message: RegExp | string) {
  const line = await cliFailure(args, code, { cwd: dir });
  if (typeof message === "string") expect(line).toContain(message);
  else expect(line).toMatch(message);
}

describe("keygen, contract, agent: what they write", () => {
  it("keygen writes a 0600 key whose peer id it prints, and will not overwrite it without --force", async () => {
    const r = await runCli(["keygen", "--out", f("k.key")]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(f("k.key")).mode & 0o777).toBe(0o600);
    expect(r.stdout.trim()).toBe((await loadOrCreateKey(f("k.key"))).peerId.toString());
    await expectError(["keygen", "--out", f("k.key")], 2, "k.key: already exists; pass --force");
    const forced = await runCli(["keygen", "--out", f("k.key"), "--force", "--json"]);
    expect(forced.code).toBe(0);
    const { peerId } = JSON.parse(forced.stdout);
    expect(peerId).not.toBe(r.stdout.trim());
    expect(peerId).toBe((await loadOrCreateKey(f("k.key"))).peerId.toString());
  });

  it("contract create writes a valid contract; contract show prints the id of its canonical form", async () => {
    const args = ["contract", "create", "--name", "c", "--resource", "cpu=10", "--resource", "gpu=2"];
    const r = await runCli([
      ...args,
      "--fee-fixed",
      "1",
      "--rule",
      "gradient",
      "--step",
      "0.1",
      "--quorum",
      "0.75",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const contract = contractSchema.parse(JSON.parse(r.stdout));
    expect(contract.resources).toEqual([
      { id: "cpu", capacity: 10 },
      { id: "gpu", capacity: 2 },
    ]);
    expect(contract.priceRule).toEqual({ kind: "gradient", step: 0.1 });
    expect(contract.quorum).toBe(0.75);
    writeFileSync(f("c.json"), r.stdout);
    const shown = await runCli(["contract", "show", f("c.json"), "--json"]);
    expect(JSON.parse(shown.stdout).id).toBe(contractId(contract));
    const text = await runCli(["contract", "show", f("c.json")]);
    expect(text.stdout).toContain(contractId(contract));
  });

  /** `walras scenario paper` for two agents at capacity 7, written to `name`; returns its text. */
  async function paperScenarioFile(name: string): Promise<string> {
    const made = await runCli(["scenario", "paper", "--agents", "2", "--capacity", "7", "--out", f(name)]);
    expect(made.code, made.stderr).toBe(0);
    return readFileSync(f(name), "utf8");
  }

  it("contract create --from takes a scenario file's contract", async () => {
    await paperScenarioFile("sp.json");
    const r = await runCli(["contract", "create", "--from", f("sp.json")]);
    expect(r.code, r.stderr).toBe(0);
    expect(contractSchema.parse(JSON.parse(r.stdout)).resources[0]?.capacity).toBe(7);
  });

  it("contract create warns of a proximal term under the newton rule, not under gradient", async () => {
    const scenario = JSON.parse(await paperScenarioFile("prox.json"));
    const withRule = (kind: string) => ({
      ...scenario,
      contract: { ...scenario.contract, proximal: 2, priceRule: { kind } },
    });
    writeFileSync(f("prox-newton.json"), JSON.stringify(withRule("newton")));
    writeFileSync(f("prox-gradient.json"), JSON.stringify(withRule("gradient")));
    const newton = await runCli(["contract", "create", "--from", f("prox-newton.json")]);
    expect(newton.code, newton.stderr).toBe(0);
    expect(newton.stderr).toContain("warning: contract: proximal 2 with the newton price rule");
    const gradient = await runCli(["contract", "create", "--from", f("prox-gradient.json")]);
    expect(gradient.code, gradient.stderr).toBe(0);
    expect(gradient.stderr).not.toContain("warning");
  });

  it("agent create writes a profile the node accepts", async () => {
    const r = await runCli([
      "agent",
      "create",
      "--valuation",
      "power:w=2,theta=0.5",
      "--cost",
      "quadratic:beta=1,c=0.5",
      "--footprint",
      "1,-0.5",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(agentProfileSchema.parse(JSON.parse(r.stdout))).toEqual({
      valuation: { kind: "power", w: 2, theta: 0.5 },
      cost: { kind: "quadratic", beta: 1, c: 0.5 },
      footprint: [1, -0.5],
    });
  });
});

describe("bad input: one line, exit 2 (usage/input) or 1 (failure)", () => {
  it("unknown flags and missing arguments", async () => {
    const checks: Promise<void>[] = [];
    const agent = ["--agent", f("agent.json")];
    const contract = ["--contract", f("contract.json")];
    const unknown = [
      ["keygen"],
      ["contract", "create"],
      ["contract", "show", f("contract.json")],
      ["agent", "create", "--valuation", "log:alpha=2", "--cost", "linear:beta=1"],
      ["node", "start", ...contract],
      ["testnet", "join", "/ip4/127.0.0.1/tcp/1", ...agent],
      ["devnet"],
      ["status"],
      ["watch"],
      ["certificate", "export"],
      ["certificate", "verify", f("x.json"), ...contract],
    ].map((cmd) => expectError([...cmd, "--frobnicate"], 2, "unknown option '--frobnicate'"));
    checks.push(...unknown);
    checks.push(expectError(["node", "start"], 2, "required option '--contract <file>' not specified"));
    checks.push(
      expectError(["testnet", "join", "/ip4/127.0.0.1/tcp/1"], 2, "required option '--agent <file>'"),
    );
    checks.push(
      expectError(["certificate", "verify", f("x.json")], 2, "required option '--contract <file>'"),
    );
    await Promise.all(checks);
  });

  it("missing and malformed files name the file", async () => {
    const checks: Promise<void>[] = [];
    checks.push(expectError(["contract", "show", f("nope.json")], 2, "nope.json: no such file"));
    checks.push(expectError(["contract", "show", f("bad.json")], 2, /bad\.json: not valid JSON/));
    checks.push(expectError(["contract", "show", f("agent.json")], 2, /agent\.json: name: expected string/));
    checks.push(expectError(["contract", "create", "--from", f("nope.json")], 2, "nope.json: no such file"));
    checks.push(expectError(["node", "start", "--contract", f("nope.json")], 2, "nope.json: no such file"));
    checks.push(
      expectError(
        ["node", "start", "--contract", f("contract.json"), "--agent", f("bad.json")],
        2,
        "bad.json: not valid JSON",
      ),
    );
    checks.push(
      expectError(
        ["node", "start", "--contract", f("contract.json"), "--agent", f("agent2.json")],
        2,
        "agent2.json: footprint: must have 1 entry",
      ),
    );
    checks.push(
      expectError(
        ["testnet", "join", "/ip4/127.0.0.1/tcp/1", "--agent", f("nope.json")],
        2,
        "nope.json: no such file",
      ),
    );
    checks.push(
      expectError(
        ["certificate", "verify", f("bad.json"), "--contract", f("contract.json")],
        2,
        "bad.json: not valid JSON",
      ),
    );
    checks.push(
      expectError(
        ["certificate", "verify", f("contract.json"), "--contract", f("contract.json")],
        2,
        /contract\.json: /,
      ),
    );
    checks.push(expectError(["devnet", "--scenario", f("nope.json")], 2, "nope.json: no such file"));
    await Promise.all(checks);
  });

  it("contract create --newton-model sums: the contract's newton rule steps on sums, and contract show says so", async () => {
    const r = await runCli([
      "contract",
      "create",
      "--capacity",
      "5",
      "--newton-model",
      "sums",
      "--out",
      f("s.json"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const contract = contractSchema.parse(JSON.parse(readFileSync(f("s.json"), "utf8")));
    expect(contract.priceRule).toEqual({ kind: "newton", model: "sums" });
    const shown = await runCli(["contract", "show", f("s.json")]);
    expect(shown.stdout).toContain("price rule  newton (sums model)");
    // Without the flag a new contract gets the curve model, named; the hinge model named is what a
    // contract naming no model always meant: no model written, so its id is unchanged.
    const plain = await runCli(["contract", "create", "--capacity", "5"]);
    expect(contractSchema.parse(JSON.parse(plain.stdout)).priceRule).toEqual({
      kind: "newton",
      model: "curves",
    });
    const curves = await runCli(["contract", "create", "--capacity", "5", "--newton-model", "curves"]);
    expect(curves.stdout).toBe(plain.stdout);
    const hinges = await runCli(["contract", "create", "--capacity", "5", "--newton-model", "hinges"]);
    expect(contractSchema.parse(JSON.parse(hinges.stdout)).priceRule).toEqual({ kind: "newton" });
  });

  it("contract create --period-ms: the contract re-clears on that period, and contract show says so", async () => {
    const r = await runCli([
      "contract",
      "create",
      "--capacity",
      "5",
      "--period-ms",
      "900000",
      "--out",
      f("p.json"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(contractSchema.parse(JSON.parse(readFileSync(f("p.json"), "utf8"))).period).toEqual({
      ms: 900000,
    });
    const shown = await runCli(["contract", "show", f("p.json")]);
    expect(shown.stdout).toContain("slots       re-clear every 900000 ms");
    const plain = await runCli(["contract", "show", f("contract.json")]);
    expect(plain.stdout).toContain("slots       a new slot when a bid, a member or the terms change");
  });

  it("a token from the environment is checked before any request", async () => {
    const r = await runCli(["agent", "update", "--node", "http://127.0.0.1:1", "--cost", "linear:beta=1"], {
      cwd: dir,
      env: { WALRAS_API_TOKEN: "xyz" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("$WALRAS_API_TOKEN: not a walras API token (64 hex digits)");
    const file = await runCli(["contract", "approve", "1".repeat(64), "--node", "http://127.0.0.1:1"], {
      cwd: dir,
      env: { WALRAS_API_TOKEN_FILE: f("missing.token") },
    });
    expect(file.code).toBe(2);
    expect(file.stderr.trim()).toMatch(/missing\.token \(\$WALRAS_API_TOKEN_FILE\): no such file/);
    const home = await runCli(["contract", "amend", "--fee-fixed", "1", "--node", "http://127.0.0.1:1"], {
      cwd: dir,
    });
    expect(home.code).toBe(2);
    expect(home.stderr.trim()).toMatch(/^\.walras\/api\.token \(the default data dir\): no such file/);
  });

  it("bad values of flags", async () => {
    const checks: Promise<void>[] = [];
    checks.push(expectError(["contract", "create", "--name", "x"], 2, "name the resources"));
    checks.push(expectError(["contract", "create", "--resource", "cpu"], 2, "must be id=capacity"));
    checks.push(expectError(["contract", "create", "--capacity", "5", "--quorum", "0.3"], 2, "(0.5, 1]"));
    checks.push(
      expectError(
        ["contract", "create", "--capacity", "5", "--round-timeout-ms", "86400001"],
        2,
        "timeouts.roundMs: must be <= 86400000",
      ),
    );
    checks.push(
      expectError(
        ["contract", "create", "--capacity", "5", "--step", "0.1"],
        2,
        "--step applies to --rule gradient",
      ),
    );
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=-1", "--cost", "linear:beta=1"],
        2,
        "--valuation alpha: must be at least 1e-12",
      ),
    );
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "cobb:x=1", "--cost", "linear:beta=1"],
        2,
        'unknown kind "cobb"',
      ),
    );
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=1", "--cost", "linear:beta=1", "--footprint", "1,x"],
        2,
        "entry 2 is not a number",
      ),
    );
    checks.push(expectError(["devnet", "--nodes", "1"], 2, "must be an integer >= 2"));
    // The schema's field names are not what the user typed: the flag is.
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=2,beta=3", "--cost", "linear:beta=1"],
        2,
        /^--valuation log:alpha=2,beta=3: unknown field beta$/,
      ),
    );
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=2", "--cost", "linear:beta=1,c=1"],
        2,
        /^--cost linear:beta=1,c=1: unknown field c$/,
      ),
    );
    // A scenario names its own agents: --nodes and --seed would be ignored, so they are refused.
    checks.push(
      expectError(
        ["devnet", "--scenario", f("s.json"), "--nodes", "3"],
        2,
        "option '--scenario <file>' cannot be used with option '--nodes <n>'",
      ),
    );
    checks.push(
      expectError(
        ["devnet", "--seed", "2", "--scenario", f("s.json")],
        2,
        "option '--scenario <file>' cannot be used with option '--seed <s>'",
      ),
    );
    checks.push(
      expectError(
        ["contract", "create", "--from", f("contract.json")],
        2,
        `${f("contract.json")}: --from takes a scenario file (from walras scenario), and this is a contract`,
      ),
    );
    checks.push(
      expectError(
        ["status", "--node", "http://127.0.0.1:99999"],
        2,
        "argument 'http://127.0.0.1:99999' is invalid. port 99999 is out of range (0-65535)",
      ),
    );
    checks.push(
      expectError(
        [
          "contract",
          "create",
          "--capacity",
          "5",
          "--allowlist",
          "12D3KooWFW7wJziHuuunfEon48aeTdSDcdhzFDca7TiaH48eEo2o",
          "nope",
        ],
        2,
        "--allowlist nope: not a peer id",
      ),
    );
    // --rebid is checked before any node starts.
    checks.push(
      expectError(
        ["devnet", "--rebid", "a9:log:alpha=3"],
        2,
        "--rebid a9:log:alpha=3: no agent a9 in this devnet (a1, a2, a3, a4, a5)",
      ),
    );
    checks.push(
      expectError(
        ["devnet", "--rebid", "a2"],
        2,
        "--rebid a2: expected agent:valuation, e.g. a2:log:alpha=30",
      ),
    );
    checks.push(
      expectError(
        ["devnet", "--rebid", "a2:log:alpha=-1"],
        2,
        "--rebid a2:log:alpha=-1: valuation.alpha: must be at least 1e-12",
      ),
    );
    checks.push(expectError(["contract", "create", "--capacity", "5", "--period-ms", "0"], 2, "--period-ms"));
    checks.push(
      expectError(
        ["contract", "create", "--capacity", "5", "--rule", "gradient", "--newton-model", "sums"],
        2,
        "--newton-model applies to --rule newton only",
      ),
    );
    checks.push(
      expectError(["contract", "create", "--capacity", "5", "--newton-model", "kinks"], 2, "--newton-model"),
    );
    await Promise.all(checks);
  });

  it("a contract whose minMembers one message cannot carry is refused by contract create and node start, naming the field and the bound", async () => {
    // 1,391 members of 52-character peer ids fit one resource's commit under the cap; 1,392 never
    // found: the founder would wait for its first epoch forever, saying nothing.
    const bound = "with at most 1391 members (counting 52-character ids, the length of an Ed25519 peer id)";
    const create = ["contract", "create", "--capacity", "5", "--min-members"];
    const fits = await runCli([...create, "1391"], { cwd: dir });
    expect(fits.code, fits.stderr).toBe(0);
    await expectError(
      [...create, "1392"],
      2,
      `contract: minMembers: 1392 agents can never be founded as one market`,
    );
    await expectError([...create, "1392"], 2, bound);
    const two = contractSchema.parse({ ...JSON.parse(fits.stdout), minMembers: 1392 });
    writeFileSync(f("unfoundable.json"), JSON.stringify(two));
    await expectError(
      ["node", "start", "--contract", f("unfoundable.json")],
      2,
      `unfoundable.json: minMembers: 1392 agents can never be founded as one market`,
    );
  });

  it("numbers beyond the protocol's bound are refused where they enter, naming the bound", async () => {
    // Accepted, log:alpha=1e13 once priced a 3-node market at 1.1e12: past the wire's bound, every
    // node rejected every price and demand, and the market wedged in round 8 for good.
    writeFileSync(
      f("huge.json"),
      JSON.stringify({
        valuation: { kind: "log", alpha: 1e13 },
        cost: { kind: "linear", beta: 1 },
        footprint: [1],
      }),
    );
    const bound = "must be within ±1e+12 (the protocol's number bound)";
    const checks: Promise<void>[] = [];
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=1e13", "--cost", "linear:beta=1"],
        2,
        `--valuation alpha: ${bound}`,
      ),
    );
    checks.push(
      expectError(
        ["agent", "create", "--valuation", "log:alpha=2", "--cost", "linear:beta=1", "--footprint", "2e12"],
        2,
        `--footprint 2e12: entry 1: ${bound}`,
      ),
    );
    checks.push(
      expectError(
        ["node", "start", "--contract", f("contract.json"), "--agent", f("huge.json")],
        2,
        `huge.json: valuation.alpha: ${bound}`,
      ),
    );
    checks.push(
      expectError(
        ["testnet", "join", "/ip4/127.0.0.1/tcp/1", "--agent", f("huge.json")],
        2,
        `huge.json: valuation.alpha: ${bound}`,
      ),
    );
    checks.push(
      expectError(["contract", "create", "--capacity", "1e13"], 2, `resources[0].capacity: ${bound}`),
    );
    checks.push(
      expectError(
        ["contract", "create", "--capacity", "5", "--fee-per-unit", "2e12"],
        2,
        `fees.perUnit: ${bound}`,
      ),
    );
    checks.push(expectError(["status", "--node", "localhost:7001"], 2, "must be an http:// URL"));
    checks.push(
      expectError(
        ["testnet", "join", "/ip4/127.0.0.1/tcp/1", "--agent", f("agent.json"), "--contract-id", "abc"],
        2,
        "64 lowercase hex",
      ),
    );
    await Promise.all(checks);
  });

  it("bad multiaddrs", async () => {
    const checks: Promise<void>[] = [];
    checks.push(
      expectError(
        ["testnet", "join", "127.0.0.1:4001", "--agent", f("agent.json")],
        2,
        '"127.0.0.1:4001" is not a multiaddr',
      ),
    );
    checks.push(
      expectError(
        ["node", "start", "--contract", f("contract.json"), "--listen", "/ip4/nope/tcp/1"],
        2,
        '"/ip4/nope/tcp/1" is not a multiaddr',
      ),
    );
    const env = await runCli(["node", "start", "--contract", f("contract.json")], {
      cwd: dir,
      env: { WALRAS_BOOTSTRAP: "/ip4/127.0.0.1/tcp/1,garbage" },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('"garbage" is not a multiaddr');
    await Promise.all(checks);
  });

  it("unreachable nodes and peers are failures (exit 1)", async () => {
    const checks: Promise<void>[] = [];
    checks.push(
      expectError(
        ["status", "--node", "http://127.0.0.1:1"],
        1,
        /http:\/\/127\.0\.0\.1:1\/status: no answer/,
      ),
    );
    checks.push(expectError(["certificate", "export", "--node", "http://127.0.0.1:1"], 1, "no answer"));
    checks.push(expectError(["watch", "--node", "http://127.0.0.1:1"], 1, "no answer"));
    checks.push(
      expectError(
        [
          "testnet",
          "join",
          "/ip4/127.0.0.1/tcp/1",
          "--agent",
          f("agent.json"),
          "--timeout-ms",
          "2000",
          "--data-dir",
          f("j"),
        ],
        1,
        "/ip4/127.0.0.1/tcp/1: no answer",
      ),
    );
    await Promise.all(checks);
  });

  it("a server that is not a walras node: one line naming the URL, exit 1, not its page", async () => {
    const page = `<!DOCTYPE html>\n<html>\n<body>\n<h1>Not Found</h1>\n${"<p>filler</p>\n".repeat(50)}</body></html>\n`;
    const server = createServer((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end(page));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const checks: Promise<void>[] = [];
      checks.push(expectError(["status", "--node", url], 1, /^[^<]*$/));
      checks.push(expectError(["status", "--node", url], 1, `${url}/status: HTTP 404: not a walras node?`));
      checks.push(expectError(["watch", "--node", url], 1, `${url}/status: HTTP 404: not a walras node?`));
      checks.push(
        expectError(
          ["contract", "amendments", "--node", url],
          1,
          `${url}/amendments: HTTP 404 with no walras error: not a walras node?`,
        ),
      );
      await Promise.all(checks);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
