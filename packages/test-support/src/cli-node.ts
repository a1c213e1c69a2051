import type { NodeStatus } from "@walras/node";
import { runCli } from "./run-cli.ts";
import { startWalras, type WalrasProcess } from "./walras-process.ts";

/** A `walras node start` (or `testnet join`) process once it has printed its addresses. */
export interface CliNode {
  readonly process: WalrasProcess;
  readonly peerId: string;
  readonly multiaddr: string;
  readonly httpUrl: string;
}

const LISTENING = /^walras node (\S+) listening on (\S+)/m;
const HTTP = /^walras node \S+ http (\S+)$/m;

/** Waits for a started node process to print its peer id, listen address and HTTP URL. */
export async function nodeAddresses(process: WalrasProcess): Promise<CliNode> {
  const [, peerId, multiaddr] = (await process.waitForLine(LISTENING)) as unknown as [string, string, string];
  const [, httpUrl] = (await process.waitForLine(HTTP)) as unknown as [string, string];
  return { process, peerId, multiaddr, httpUrl };
}

/** Runs `walras <args>` (a node command with `--http`) and waits until it says where it is. */
export function startCliNode(args: readonly string[], env: Record<string, string> = {}): Promise<CliNode> {
  return nodeAddresses(startWalras(args, env));
}

/** GET <url>/status, or null while the node does not answer. */
export async function fetchStatus(url: string): Promise<NodeStatus | null> {
  try {
    const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as NodeStatus) : null;
  } catch {
    return null;
  }
}

/**
 * Runs `walras <args>` expecting it to fail the way every command must: this exit code, nothing on
 * stdout, exactly one line on stderr, which it returns. Throws, saying what came instead, otherwise.
 */
export async function cliFailure(
  args: readonly string[],
  code: 1 | 2,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const r = await runCli(args, options);
  const lines = r.stderr.trim().split("\n");
  if (r.code !== code || r.stdout !== "" || lines.length !== 1)
    throw new Error(
      `walras ${args.join(" ")}: expected exit ${code}, no stdout and one line on stderr; got exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`,
    );
  return lines[0] as string;
}
