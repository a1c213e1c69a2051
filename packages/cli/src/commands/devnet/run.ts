import { commonCertificate, fetchNodeCertificate, fetchNodeStatus, type NodeStatus } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  contractId,
  type Scenario,
  scenarioSchema,
} from "@walras/protocol";
import { FailureError } from "../../cli-error.ts";
import { profileChanges } from "../../describe-profile.ts";
import type { PriceRuleFlags } from "../../price-rule-flags.ts";
import { readJsonFile } from "../../read-json-file.ts";
import { jsonText } from "../../write-output.ts";

import { devnetScenario, devnetScenarioFrom } from "./devnet-scenario.ts";
import { devnetJson, formatHeader, formatJoinHint, formatNodes, formatResult } from "./format.ts";
import { NODE_COMMAND } from "./node-command.ts";
import { ProgressLog } from "./progress.ts";
import { applyRebid, planRebid } from "./rebid.ts";
import { checkAgainstReference } from "./reference-check.ts";
import { type Devnet, DevnetStartError, startDevnet } from "./start-devnet.ts";

const POLL_MS = 50;

export interface DevnetFlags extends PriceRuleFlags {
  readonly nodes: number;
  readonly scenario?: string;
  readonly seed: number;
  readonly basePort: number;
  readonly httpBasePort: number;
  readonly timeout: number;
  readonly keep?: boolean;
  readonly json?: boolean;
  readonly rebid?: string;
}

class Interrupted extends Error {}

export async function runDevnet(flags: DevnetFlags): Promise<void> {
  const scenario: Scenario = flags.scenario
    ? devnetScenarioFrom(await readJsonFile(flags.scenario, scenarioSchema), flags)
    : devnetScenario({ nodes: flags.nodes, seed: flags.seed, rule: flags });
  const rebid = flags.rebid === undefined ? null : planRebid(flags.rebid, scenario);
  // With --json, stdout carries only the result; people still see progress on stderr.
  const say = (text: string) => (flags.json ? process.stderr : process.stdout).write(`${text}\n`);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const startedAt = Date.now();
  let devnet: Devnet | null = null;
  // Progress stops at the end: the slots nodes open as they leave are not the run's.
  let unfollow: (() => unknown) | undefined;
  try {
    say(formatHeader(scenario, contractId(scenario.contract)));
    try {
      devnet = await startDevnet({
        scenario,
        nodeCommand: NODE_COMMAND,
        basePort: flags.basePort,
        httpBasePort: flags.httpBasePort,
        // The nodes already up take CPU from those still starting: on two cores the 30th of
        // forty needed more than 30 s to come up.
        startTimeoutMs: Math.max(30_000, 2_000 * scenario.agents.length),
      });
    } catch (err) {
      if (err instanceof DevnetStartError) throw new FailureError(`devnet: ${err.message}`);
      throw err;
    }
    const upAt = Date.now();
    say(formatNodes(devnet, (upAt - startedAt) / 1000));
    const net = devnet;
    const peerIds = net.nodes.map((n) => n.peerId);
    const progress = new ProgressLog(
      net.nodes.length,
      net.contract.resources.map((r) => r.id),
    );
    unfollow = net.nodes[0]?.onLog((entry) => {
      const line = progress.logEntry(entry);
      if (line) say(line);
    });
    /** Shows progress until every node holds one certificate for all of them that `wanted` accepts. */
    const certifiedWhen = (deadline: number, wanted: (epoch: number) => boolean) =>
      pollUntil(net, interrupt.signal, deadline, (statuses) => {
        const line = progress.poll(statuses);
        if (line) say(line);
        const common = commonCertificate(statuses, peerIds);
        return common !== null && wanted(common.epoch);
      });
    if (!(await certifiedWhen(upAt + flags.timeout * 1000, () => true)))
      throw new FailureError(`devnet: no common certificate within ${flags.timeout} s (--timeout)`);
    const certifiedAt = Date.now();
    let certificate = await firstCertificate(net);
    const profiles = new Map<string, AgentProfile>(net.nodes.map((n) => [n.label, n.profile]));
    let rebidSeconds: number | null = null;
    if (rebid) {
      // Re-clearing: one agent bids anew through its node's API, and its node opens the next slot.
      const node = net.nodes.find((n) => n.label === rebid.label);
      if (!node) throw new FailureError(`devnet: no node runs agent ${rebid.label}`);
      const takesEffect = await applyRebid(node, rebid);
      const rebidAt = Date.now();
      profiles.set(rebid.label, rebid.after);
      say(
        `${rebid.label} bids anew (PUT ${node.httpUrl}/agent): ${profileChanges(rebid.before, rebid.after).join("; ")}; takes effect ${takesEffect}`,
      );
      const before = certificate.commit.epoch;
      if (!(await certifiedWhen(rebidAt + flags.timeout * 1000, (epoch) => epoch > before)))
        throw new FailureError(
          `devnet: no certificate after ${rebid.label}'s new bid within ${flags.timeout} s (--timeout)`,
        );
      rebidSeconds = (Date.now() - rebidAt) / 1000;
      certificate = await firstCertificate(net);
    }
    const check = checkAgainstReference(
      net.contract,
      net.nodes.map((n) => ({ id: n.peerId, profile: profiles.get(n.label) ?? n.profile })),
      certificate,
    );
    const timing = {
      startupSeconds: (upAt - startedAt) / 1000,
      toCertificateSeconds: (certifiedAt - upAt) / 1000,
      ...(rebidSeconds !== null ? { rebidToCertificateSeconds: rebidSeconds } : {}),
    };
    const result = { certificate, check, timing, profiles, slots: progress.slots(), rebid };
    say(formatResult(devnet, result));
    if (flags.json) process.stdout.write(jsonText(devnetJson(devnet, result)));
    if (flags.keep && !interrupt.signal.aborted) {
      say(formatJoinHint(devnet));
      await certifiedWhen(Number.POSITIVE_INFINITY, () => false).catch((err) => {
        if (!(err instanceof Interrupted)) throw err;
      });
    }
    if (!check.pass) throw new FailureError(`devnet: FAIL: ${check.failure}`);
  } catch (err) {
    if (err instanceof Interrupted)
      throw new FailureError("devnet: interrupted before the network was certified");
    throw err;
  } finally {
    unfollow?.();
    if (devnet) {
      say(`stopping ${devnet.nodes.length} nodes (each announces its leave) ...`);
      await devnet.stop();
      say("all nodes stopped");
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function firstCertificate(devnet: Devnet): Promise<Certificate> {
  const first = devnet.nodes[0];
  const certificate = first ? await fetchNodeCertificate(first.httpUrl) : null;
  if (!certificate) throw new FailureError("devnet: the first node serves no certificate");
  return certificate;
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
