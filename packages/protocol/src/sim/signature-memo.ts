import { messageDigest } from "../wire/message-codec.ts";
import type { WireMessage } from "../wire/messages.ts";
import { verifyMessage } from "../wire/signing.ts";

/**
 * A signature check that remembers its answers, for simulations only. In a simulated network one
 * signed message reaches every node, and each node's `check` verifies it: Ed25519 verification
 * then dominates a run. The key is the message digest, the hash of its canonical bytes with the
 * agent and the signature in them, so a memo hit means the very same (agent, bytes, signature)
 * triple was verified before; every node still runs every other step of `check`.
 */
export interface SignatureMemo {
  readonly verify: (message: WireMessage) => boolean;
  /** Signatures actually verified, and answers served from the memo. */
  readonly stats: () => { readonly verified: number; readonly remembered: number };
}

export function createSignatureMemo(): SignatureMemo {
  const answers = new Map<string, boolean>();
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
      verified += 1;
      const ok = verifyMessage(message);
      answers.set(key, ok);
      return ok;
    },
    stats: () => ({ verified, remembered }),
  };
}
