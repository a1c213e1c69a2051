import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { type Contract, contractId, contractSchema, parseWith } from "@walras/protocol";
import { createHost } from "./host.ts";
import { requestSync } from "./sync-protocol.ts";

/** What a running network's peer says it is serving, with the contract checked against its id. */
export interface FetchedContract {
  /** The peer that answered (from the address's /p2p/ part or the connection). */
  readonly peer: string;
  readonly contractId: string;
  readonly contract: Contract;
  /** The peer's /status, as it sent it. */
  readonly status: Record<string, unknown>;
}

/**
 * Why a fetch failed. "unreachable": no answer from the peer; "mismatch": the peer serves another
 * contract than the one asked for, or sent one whose id is not the one it named; "invalid": the
 * peer's answer does not hold a valid contract.
 */
export class ContractFetchError extends Error {
  readonly kind: "unreachable" | "mismatch" | "invalid";
  constructor(kind: ContractFetchError["kind"], message: string) {
    super(message);
    this.name = "ContractFetchError";
    this.kind = kind;
  }
}

export interface FetchContractOptions {
  /** The contract id the caller expects; the peer's must equal it. */
  readonly contractId?: string;
  /** Whole exchange (dial, status, contract). Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Asks the peer at `address` for its status and then for its contract by id, over the sync
 * protocol, from a short-lived host of its own. The contract is accepted only when the hash of its
 * canonical form is the id asked for: a peer cannot hand out a different contract under that id.
 */
export async function fetchContract(
  address: string,
  options: FetchContractOptions = {},
): Promise<FetchedContract> {
  const target = multiaddr(address);
  const host = await createHost({ privateKey: await generateKeyPair("Ed25519"), listen: [], bootstrap: [] });
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  try {
    let status: Record<string, unknown>;
    try {
      status = (await requestSync(host.libp2p, target, { type: "status" }, { signal: deadline })).status;
    } catch (err) {
      throw new ContractFetchError("unreachable", `${address}: no answer: ${(err as Error).message}`);
    }
    const peer = host.libp2p.getConnections()[0]?.remotePeer.toString() ?? address;
    const served = status.contractId;
    if (typeof served !== "string" || !/^[0-9a-f]{64}$/.test(served))
      throw new ContractFetchError("invalid", `${peer}: its status names no contract id`);
    if (options.contractId !== undefined && served !== options.contractId)
      throw new ContractFetchError(
        "mismatch",
        `${peer} serves contract ${served}, not the requested ${options.contractId}`,
      );
    let raw: unknown;
    try {
      raw = (
        await requestSync(host.libp2p, target, { type: "contract", contractId: served }, { signal: deadline })
      ).contract;
    } catch (err) {
      throw new ContractFetchError(
        "unreachable",
        `${address}: contract request failed: ${(err as Error).message}`,
      );
    }
    if (raw === null)
      throw new ContractFetchError("invalid", `${peer}: does not know its own contract ${served}`);
    const parsed = parseWith(contractSchema, raw, `contract from ${peer}`);
    if (!parsed.ok) throw new ContractFetchError("invalid", parsed.error);
    const id = contractId(parsed.value);
    if (id !== served)
      throw new ContractFetchError(
        "mismatch",
        `${peer} sent a contract whose id is ${id}, not the ${served} it named`,
      );
    return { peer, contractId: id, contract: parsed.value, status };
  } finally {
    await host.stop();
  }
}
