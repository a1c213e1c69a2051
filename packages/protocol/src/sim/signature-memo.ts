import type { Signer } from "../wire/agent-key.ts";
import { sha256Hex } from "../wire/hash.ts";
import { messageDigest } from "../wire/message-codec.ts";
import type { WireMessage } from "../wire/messages.ts";
import { signingBytes, verifyMessage } from "../wire/signing.ts";

/**
 * A signature check that remembers its answers, for simulations only. In a simulated network one
 * signed message reaches every node, and each node's `check` verifies it: Ed25519 verification
 * then dominates a run. Two memories:
 * - by message digest (the hash of its canonical bytes with the agent and the signature in them):
 *   a hit means the very same (agent, bytes, signature) triple was checked before;
 * - by signature, for signers wrapped with `signer()`: the hash of the bytes each signature was
 *   made over. A message carrying such a signature over exactly those bytes, from that agent, is
 *   valid without an Ed25519 check (a signature is a function of key and bytes); any other
 *   message (altered bytes, another agent, a signature the simulator did not make) is verified.
 * Every node still runs every other step of `check`.
 */
export interface SignatureMemo {
  readonly verify: (message: WireMessage) => boolean;
  /** `signer`, recording what it signs. */
  readonly signer: (signer: Signer) => Signer;
  /** Signatures actually verified, and answers served from the memo. */
  readonly stats: () => { readonly verified: number; readonly remembered: number };
}

export function createSignatureMemo(): SignatureMemo {
  const answers = new Map<string, boolean>();
  /** `${agent} ${signature, base64}` -> sha256 of the bytes it signed. */
  const signed = new Map<string, string>();
  let verified = 0;
  let remembered = 0;
  return {
    verify(message) {
      const key = messageDigest(message);
      const known = answers.get(key);
      if (known !== undefined) {
        remembered += 1;
        return known;
      }
      const made = signed.get(`${message.agent} ${message.sig}`);
      let ok: boolean;
      if (made !== undefined && made === sha256Hex(signingBytes(message))) {
        remembered += 1;
        ok = true;
      } else {
        verified += 1;
        ok = verifyMessage(message);
      }
      answers.set(key, ok);
      return ok;
    },
    signer: (inner) => ({
      id: inner.id,
      sign(bytes) {
        const sig = inner.sign(bytes);
        signed.set(`${inner.id} ${Buffer.from(sig).toString("base64")}`, sha256Hex(bytes));
        return sig;
      },
    }),
    stats: () => ({ verified, remembered }),
  };
}
