/** Branded identifiers: a contract id is never confused with an agent id or a digest. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Hex SHA-256 of a contract's canonical bytes. */
export type ContractId = Brand<string, "ContractId">;
/** An agent's libp2p peer id (base58btc of its Ed25519 public key's identity multihash). */
export type AgentId = Brand<string, "AgentId">;
/** Hex SHA-256 of some canonical structure (a demand set, an allocation, a member set). */
export type Digest = Brand<string, "Digest">;

export const asAgentId = (s: string): AgentId => s as AgentId;
export const asContractId = (s: string): ContractId => s as ContractId;
export const asDigest = (s: string): Digest => s as Digest;

/** Canonical order for every sum and list over agents: by id, UTF-16 code units. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
