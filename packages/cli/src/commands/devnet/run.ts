import { fileURLToPath } from "node:url";
import { fetchNodeCertificate, fetchNodeStatus, type NodeStatus } from "@walras/node";
import { contractId, type Scenario, scenarioSchema } from "@walras/protocol";
import { FailureError } from "../../cli-error.ts";
import { readJsonFile } from "../../read-json-file.ts";
import { jsonText } from "../../write-output.ts";
import { commonCertificate } from "./convergence.ts";
import { devnetScenario, devnetScenarioFrom } from "./devnet-scenario.ts";
import { devnetJson, formatHeader, formatJoinHint, formatNodes, formatResult } from "./format.ts";
import { ProgressLog } from "./progress.ts";
import { checkAgainstReference } from "./reference-check.ts";
import { type Devnet, DevnetStartError, startDevnet } from "./start-devnet.ts";

const WALRAS_BIN = fileURLToPath(new URL("../../../bin/walras", import.meta.url));
const POLL_MS = 50;

export interface DevnetFlags {
  readonly nodes: number;
  readonly scenario?: string;
  readonly rule?: "newton" | "gradient";
  readonly seed: number;
  readonly basePort: number;
  readonly httpBasePort: number;
  readonly timeout: number;
  readonly keep?: boolean;
  readonly json?: boolean;
}

class Interrupted extends Error {}

export async function runDevnet(flags: DevnetFlags): Promise<void> {
  const scenario: Scenario = flags.scenario
    ? devnetScenarioFrom(await readJsonFile(flags.scenario, scenarioSchema), flags.rule)
    : devnetScenario({ nodes: flags.nodes, seed: flags.seed, ...(flags.rule ? { rule: flags.rule } : {}) });
  // With --json, stdout carries only the result; people still see progress on stderr.
  const say = (text: string) => (flags.json ? process.stderr : process.stdout).write(`${text}\n`);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const startedAt = Date.now();
  let devnet: Devnet | null = null;
  try {
    say(formatHeader(scenario, contractId(scenario.contract)));
    try {
      devnet = await startDevnet({
        scenario,
        nodeCommand: [process.execPath, WALRAS_BIN, "node", "start"],
        basePort: flags.basePort,
        httpBasePort: flags.httpBasePort,
      });
    } catch (err) {
      if (err instanceof DevnetStartError) throw new FailureError(`devnet: ${err.message}`);
      throw err;
    }
    const upAt = Date.now();
    say(formatNodes(devnet, (upAt - startedAt) / 1000));
    const peerIds = devnet.nodes.map((n) => n.peerId);
    const progress = new ProgressLog(
      devnet.nodes.length,
      devnet.contract.resources.map((r) => r.id),
    );
    devnet.nodes[0]?.onLog((entry) => {
      const line = progress.logEntry(entry);
      if (line) say(line);
    });
    const deadline = upAt + flags.timeout * 1000;
    const certified = await pollUntil(devnet, interrupt.signal, deadline, (statuses) => {
      const line = progress.poll(statuses);
      if (line) say(line);
      return commonCertificate(statuses, peerIds) !== null;
    });
    if (!certified)
      throw new FailureError(`devnet: no common certificate within ${flags.timeout} s (--timeout)`);
    const certifiedAt = Date.now();
    const first = devnet.nodes[0];
    const certificate = first ? await fetchNodeCertificate(first.httpUrl) : null;
    if (!certificate) throw new FailureError("devnet: the first node serves no certificate");
    const check = checkAgainstReference(
      devnet.contract,
      devnet.nodes.map((n) => ({ id: n.peerId, profile: n.profile })),
      certificate,
    );
    const timing = {
      startupSeconds: (upAt - startedAt) / 1000,
      toCertificateSeconds: (certifiedAt - upAt) / 1000,
    };
    say(formatResult(devnet, certificate, check, timing));
    if (flags.json) process.stdout.write(jsonText(devnetJson(devnet, certificate, check, timing)));
    if (flags.keep && !interrupt.signal.aborted) {
      say(formatJoinHint(devnet));
      await pollUntil(devnet, interrupt.signal, Number.POSITIVE_INFINITY, (statuses) => {
        const line = progress.poll(statuses);
        if (line) say(line);
        return false;
      }).catch((err) => {
        if (!(err instanceof Interrupted)) throw err;
      });
    }
    if (!check.pass) throw new FailureError(`devnet: FAIL: ${check.failure}`);
  } catch (err) {
    if (err instanceof Interrupted)
      throw new FailureError("devnet: interrupted before the network was certified");
    throw err;
  } finally {
    if (devnet) {
      say(`stopping ${devnet.nodes.length} nodes (each announces its leave) ...`);
      await devnet.stop();
      say("all nodes stopped");
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Polls every node's /status until `done` says so (true), the deadline passes (false), a node
 * dies (failure) or the user interrupts (Interrupted).
 */
async function pollUntil(
  devnet: Devnet,
  signal: AbortSignal,
  deadline: number,
  done: (statuses: (NodeStatus | null)[]) => boolean,
): Promise<boolean> {
  let died: string | null = null;
  void devnet.unexpectedExit.then(({ node, code, signal: sig }) => {
    died = `devnet: node ${node.label} exited (${sig ?? `code ${code}`}); its log: ${node.logFile}`;
  });
  while (Date.now() < deadline) {
    if (signal.aborted) throw new Interrupted();
    if (died) throw new FailureError(died);
    const statuses = await Promise.all(
      devnet.nodes.map((n) => fetchNodeStatus(n.httpUrl, 2_000).catch(() => null)),
    );
    if (done(statuses)) return true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return false;
}
