import { type Signer, verifyAgentSignature } from "./agent-key.ts";
import { canonicalBytes } from "./canonical-json.ts";
import { PROTOCOL_VERSION, type Unsigned, type WireMessage } from "./messages.ts";

/**
 * The bytes an agent signs: a domain prefix naming the protocol version and the message kind,
 * then the canonical JSON of the message without `sig` and `agent`. The prefix keeps a signature
 * for one kind from being replayed as another; the contract id, epoch and round inside the body
 * keep it from being replayed in another contract, epoch or round. `agent` is left out so that
 * every member signs the same bytes for a commit (the signatures then stack into a certificate);
 * the signature still binds the agent, since it verifies only under the agent's own key.
 */
export function signingBytes(message: Unsigned<WireMessage> | WireMessage): Uint8Array {
  const { sig: _sig, agent: _agent, ...body } = message as WireMessage;
  const prefix = new TextEncoder().encode(`walras/v${PROTOCOL_VERSION}/${message.kind}\n`);
  const json = canonicalBytes(body);
  const out = new Uint8Array(prefix.length + json.length);
  out.set(prefix, 0);
  out.set(json, prefix.length);
  return out;
}

export function signMessage<M extends WireMessage>(unsigned: Unsigned<M>, signer: Signer): M {
  if (unsigned.agent !== signer.id)
    throw new Error(`cannot sign as ${unsigned.agent} with ${signer.id}'s key`);
  const sig = Buffer.from(signer.sign(signingBytes(unsigned))).toString("base64");
  return { ...unsigned, sig } as M;
}

export function verifyMessage(message: WireMessage): boolean {
  return verifyAgentSignature(message.agent, signingBytes(message), base64ToBytes(message.sig));
}

export function base64ToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}
