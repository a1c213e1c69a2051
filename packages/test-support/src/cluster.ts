import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  commonCertificate,
  createLogger,
  startWalrasNode,
  type WalrasNode,
  type WalrasNodeInit,
} from "@walras/node";
import {
  type AgentProfile,
  type Contract,
  contractSchema,
  paperProfiles,
  scenarioSchema,
  solveReference,
} from "@walras/protocol";
import { waitFor } from "./wait-for.ts";

export { paperProfiles } from "@walras/protocol";

/**
 * The market the multi-node tests share: one resource of capacity 6 (it binds for five paper-style
 * agents), a per-unit fee, no fixed fee, quick announcements. Each test names it and overrides what
 * it is about (rule, members, timeouts, resources).
 */
export function testContract(name: string, overrides: Record<string, unknown> = {}): Contract {
  return contractSchema.parse({
    name,
    resources: [{ id: "capacity", capacity: 6 }],
    fees: { perUnit: 0.5, fixed: 0 },
    minMembers: 5,
    timeouts: { roundMs: 3000, announceMs: 300 },
    ...overrides,
  });
}

export interface Cluster {
  /** Where the nodes' data dirs are: node i's is `<root>/node-i`. */
  readonly root: string;
  readonly nodes: WalrasNode[];
  readonly profiles: AgentProfile[];
  add(profile: AgentProfile, extra?: Partial<WalrasNodeInit>): Promise<WalrasNode>;
  stop(): Promise<void>;
}

/**
 * Real libp2p nodes in this process over TCP loopback: the first listens, the rest bootstrap
 * from it. Data dirs are temporary and removed on stop.
 */
export async function startCluster(
  contract: Contract,
  profiles: readonly AgentProfile[],
  extra: Partial<WalrasNodeInit> = {},
): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), "walras-test-"));
  const logger = createLogger({ level: process.env.WALRAS_TEST_LOG ?? "silent" });
  const nodes: WalrasNode[] = [];
  const all: AgentProfile[] = [];
  let bootstrap: string[] = [];
  const add = async (profile: AgentProfile, more: Partial<WalrasNodeInit> = {}) => {
    const node = await startWalrasNode({
      contract,
      agent: profile,
      dataDir: join(root, `node-${nodes.length}`),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap,
      logger,
      ...extra,
      ...more,
    });
    if (bootstrap.length === 0) bootstrap = [node.multiaddrs()[0] as string];
    nodes.push(node);
    all.push(profile);
    return node;
  };
  try {
    for (const p of profiles) await add(p);
  } catch (err) {
    await Promise.allSettled(nodes.map((n) => n.stop({ leave: false })));
    throw err;
  }
  return {
    root,
    nodes,
    profiles: all,
    add,
    stop: async () => {
      await Promise.allSettled(nodes.map((n) => n.stop({ leave: false })));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** All these nodes hold a certificate naming exactly these members (same digest everywhere). */
export async function waitForCertificate(nodes: readonly WalrasNode[], timeoutMs = 60_000): Promise<void> {
  // Settled, too (commonCertificate): no change is under way that would replace it during the test.
  await waitFor(
    () =>
      commonCertificate(
        nodes.map((n) => n.status()),
        nodes.map((n) => n.peerId),
      ) !== null,
    { timeoutMs, what: `a certificate for ${nodes.length} members on every node, all of them voters` },
  );
}

/** The reference solver on the combined scenario: the agents' profiles under their peer ids. */
export function referenceFor(
  contract: Contract,
  nodes: readonly WalrasNode[],
  profiles: readonly AgentProfile[],
) {
  const scenario = scenarioSchema.parse({
    contract,
    agents: nodes.map((n, i) => ({ id: n.peerId, ...(profiles[i] as AgentProfile) })),
  });
  return solveReference(scenario);
}

/**
 * The market the dashboard is shown and tested with: two resources, so the chart has two price
 * paths (one may stay at 0), and a fixed fee, so the charges table has every column filled.
 */
export function dashboardMarket(members: number): { contract: Contract; profiles: AgentProfile[] } {
  return {
    contract: testContract("dashboard", {
      minMembers: members,
      resources: [
        { id: "cpu", capacity: 5 },
        { id: "energy", capacity: 3 },
      ],
      fees: { perUnit: 0.5, fixed: 0.1 },
    }),
    profiles: paperProfiles(members, 1).map((p, i) => ({ ...p, footprint: [1, 0.4 + 0.3 * (i % 3)] })),
  };
}
