// Looks at a running Compose testnet from inside its network: docker/test.sh runs it in a
// throwaway container of the walras image (Node 24, the walras CLI at /app), so the host needs
// nothing but docker. Each command checks once and exits; the callers do the (bounded) waiting.
//
//   probe.ts peer-id NODE
//   probe.ts converged --members N [--with PEER] [--without PEER] [--not DIGEST] NODE...
//   probe.ts check-solver --contract FILE --agents DIR --certificate-from NODE AGENT_NODE...
//
// NODE is a Compose service name (its status API at NAME:8080) or NAME@HOST:PORT; an agent node's
// profile is AGENTS_DIR/NAME.json.
//
// Exit 0: the condition holds (and a one-line JSON result on stdout). Exit 3: not yet (the reason
// on stderr). Exit 1: a failure that waiting will not fix.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const HTTP_PORT = Number(process.env.WALRAS_HTTP_PORT ?? 8080);
const WALRAS_CLI = "/app/packages/cli/bin/walras";

type Numbers = Record<string, number>;

interface CertificateSummary {
  digest: string;
  epoch: number;
  members: string[];
  prices: unknown;
  allocations: unknown;
}

interface NodeStatus {
  peerId: string;
  status: string;
  epoch: number;
  round: number;
  certificate: CertificateSummary | null;
}

class NotYet extends Error {}
class Failure extends Error {}

/** "a1" -> a1:8080; "joiner@127.0.0.1:18089" -> 127.0.0.1:18089. */
function nodeName(node: string): string {
  return node.split("@")[0] as string;
}

function nodeAddress(node: string): string {
  const at = node.indexOf("@");
  return at >= 0 ? node.slice(at + 1) : `${node}:${HTTP_PORT}`;
}

async function getJson(node: string, path: string): Promise<unknown> {
  const url = `http://${nodeAddress(node)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  } catch (err) {
    throw new NotYet(
      `${nodeName(node)}: ${url} unreachable (${(err as Error).cause ?? (err as Error).message})`,
    );
  }
  if (!res.ok) throw new NotYet(`${nodeName(node)}: GET ${path} answered ${res.status}`);
  return res.json();
}

async function status(node: string): Promise<NodeStatus> {
  const s = (await getJson(node, "/status")) as NodeStatus;
  if (typeof s?.peerId !== "string")
    throw new Failure(`${nodeName(node)}: /status has no peerId: ${JSON.stringify(s)}`);
  return s;
}

async function peerId(node: string): Promise<object> {
  return { node: nodeName(node), peerId: (await status(node)).peerId };
}

interface ConvergedOptions {
  members: number;
  with?: string;
  without?: string;
  not?: string;
}

/** Every node reports the same certificate, of the expected membership. */
async function converged(nodes: string[], opts: ConvergedOptions): Promise<object> {
  const statuses = await Promise.all(nodes.map(async (n) => [nodeName(n), await status(n)] as const));
  const brief = statuses
    .map(([n, s]) => `${n}=${s.status}/e${s.epoch}r${s.round}/${s.certificate?.digest.slice(0, 8) ?? "-"}`)
    .join(" ");
  const digests = new Set(statuses.map(([, s]) => s.certificate?.digest ?? null));
  const [, first] = statuses[0] ?? [];
  const cert = first?.certificate;
  if (digests.size !== 1 || !cert) throw new NotYet(`no common certificate yet: ${brief}`);
  if (cert.digest === opts.not) throw new NotYet(`still the previous certificate: ${brief}`);
  if (cert.members.length !== opts.members)
    throw new NotYet(
      `certificate ${cert.digest.slice(0, 8)} has ${cert.members.length} members, want ${opts.members}: ${brief}`,
    );
  if (opts.with && !cert.members.includes(opts.with))
    throw new NotYet(`certificate ${cert.digest.slice(0, 8)} lacks member ${opts.with}: ${brief}`);
  if (opts.without && cert.members.includes(opts.without))
    throw new NotYet(`certificate ${cert.digest.slice(0, 8)} still has member ${opts.without}: ${brief}`);
  return { digest: cert.digest, epoch: cert.epoch, members: cert.members };
}

/** Resource id -> number, from either a map or an array in the contract's resource order. */
function byResource(value: unknown, resourceIds: string[], what: string): Numbers {
  if (Array.isArray(value)) return Object.fromEntries(resourceIds.map((id, r) => [id, Number(value[r])]));
  if (value && typeof value === "object") return value as Numbers;
  throw new Failure(`${what}: expected prices as an array or a map, got ${JSON.stringify(value)}`);
}

/** Agent id -> activity, from either a map or an array of { agent, x }. */
function byAgent(value: unknown, what: string): Numbers {
  if (Array.isArray(value))
    return Object.fromEntries(value.map((a: { agent: string; x: number }) => [a.agent, a.x]));
  if (value && typeof value === "object") return value as Numbers;
  throw new Failure(`${what}: expected allocations as an array or a map, got ${JSON.stringify(value)}`);
}

function compare(what: string, got: Numbers, want: Numbers, tolerance: number): number {
  let worst = 0;
  for (const key of new Set([...Object.keys(got), ...Object.keys(want)])) {
    const g = got[key];
    const w = want[key];
    if (g === undefined || w === undefined)
      throw new Failure(
        `${what}: ${key} is ${g === undefined ? "missing from the network's" : "absent from the reference"} result`,
      );
    const diff = Math.abs(g - w) / Math.max(Math.abs(g), Math.abs(w), 1);
    worst = Math.max(worst, diff);
    if (diff > tolerance)
      throw new Failure(
        `${what}: ${key} is ${g} on the network, ${w} by the reference solver (relative difference ${diff.toExponential(2)} > ${tolerance})`,
      );
  }
  return worst;
}

interface SolverOptions {
  contract: string;
  agents: string;
  certificateFrom: string;
  tolerance: number;
}

function walras(args: string[]): string {
  try {
    return execFileSync(process.execPath, [WALRAS_CLI, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; stdout?: string };
    throw new Failure(`walras ${args.join(" ")} exited ${e.status}: ${(e.stderr || e.stdout || "").trim()}`);
  }
}

/**
 * The certificate the network agreed on, against the reference solver run on the same scenario:
 * the testnet contract and the agents' profiles, each under its node's peer id.
 */
async function checkSolver(agentNodes: string[], opts: SolverOptions): Promise<object> {
  const contract = JSON.parse(readFileSync(opts.contract, "utf8"));
  const resourceIds: string[] = contract.resources.map((r: { id: string }) => r.id);
  const agents = await Promise.all(
    agentNodes.map(async (node) => {
      const profile = JSON.parse(readFileSync(join(opts.agents, `${nodeName(node)}.json`), "utf8"));
      return { id: (await status(node)).peerId, ...profile };
    }),
  );
  const certificate = await getJson(opts.certificateFrom, "/certificate");
  const dir = mkdtempSync(join(tmpdir(), "walras-probe-"));
  const scenarioFile = join(dir, "scenario.json");
  const certificateFile = join(dir, "certificate.json");
  writeFileSync(scenarioFile, JSON.stringify({ contract, agents }, null, 2));
  writeFileSync(certificateFile, JSON.stringify(certificate, null, 2));

  walras(["certificate", "verify", certificateFile, "--contract", opts.contract]);
  const report = JSON.parse(walras(["simulate", scenarioFile, "--json"]));
  const reference = report.reference ?? report;
  const summary = (await status(opts.certificateFrom)).certificate;
  if (!summary) throw new Failure(`${opts.certificateFrom}: /status has no certificate`);
  const members = [...summary.members].sort();
  const peers = agents.map((a) => a.id as string).sort();
  if (JSON.stringify(members) !== JSON.stringify(peers))
    throw new Failure(
      `certificate members ${members.join(",")} are not the agent nodes' peer ids ${peers.join(",")}`,
    );
  const priceDiff = compare(
    "prices",
    byResource(summary.prices, resourceIds, "certificate"),
    byResource(reference.prices, resourceIds, "reference"),
    opts.tolerance,
  );
  const allocationDiff = compare(
    "allocations",
    byAgent(summary.allocations, "certificate"),
    byAgent(reference.allocations, "reference"),
    opts.tolerance,
  );
  return {
    digest: summary.digest,
    prices: byResource(summary.prices, resourceIds, "certificate"),
    maxRelativeDifference: { prices: priceDiff, allocations: allocationDiff },
  };
}

async function main(argv: string[]): Promise<object> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      members: { type: "string" },
      with: { type: "string" },
      without: { type: "string" },
      not: { type: "string" },
      contract: { type: "string", default: "/etc/walras/contract.json" },
      agents: { type: "string", default: "/etc/walras/agents" },
      "certificate-from": { type: "string", default: "bootstrap" },
      tolerance: { type: "string", default: "1e-4" },
    },
  });
  if (positionals.length === 0) throw new Failure(`${command ?? "(no command)"}: name at least one node`);
  switch (command) {
    case "peer-id":
      return peerId(positionals[0] as string);
    case "converged":
      if (!values.members || !Number.isInteger(Number(values.members)))
        throw new Failure("converged: --members N (the certificate's expected member count) is required");
      return converged(positionals, {
        members: Number(values.members),
        with: values.with,
        without: values.without,
        not: values.not,
      });
    case "check-solver":
      return checkSolver(positionals, {
        contract: values.contract,
        agents: values.agents,
        certificateFrom: values["certificate-from"],
        tolerance: Number(values.tolerance),
      });
    default:
      throw new Failure(`unknown command ${command}: use peer-id, converged or check-solver`);
  }
}

main(process.argv.slice(2)).then(
  (result) => console.log(JSON.stringify(result)),
  (err: unknown) => {
    console.error(`probe: ${(err as Error).message}`);
    process.exitCode = err instanceof NotYet ? 3 : 1;
  },
);
