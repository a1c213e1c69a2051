import type { Contract } from "@walras/protocol";

/**
 * An agent node whose peer id the contract's allowlist leaves out. Started anyway, every other
 * node would reject its messages, and as a founder it would found a market whose certificates
 * fail verification; so it does not start. An observer (no agent) needs no place on the list.
 */
export class NotOnAllowlistError extends Error {
  readonly peerId: string;
  constructor(peerId: string) {
    super(`${peerId}: not on the contract's allowlist; an agent node must be`);
    this.name = "NotOnAllowlistError";
    this.peerId = peerId;
  }
}

export function checkAllowlisted(contract: Contract, peerId: string): void {
  const { membership } = contract;
  if (membership.policy === "allowlist" && !membership.members.includes(peerId))
    throw new NotOnAllowlistError(peerId);
}
