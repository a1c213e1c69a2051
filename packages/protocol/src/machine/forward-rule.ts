import type { Verdict } from "./machine-io.ts";

/**
 * Whether a node's gossip forwards a message it judged `verdict` (docs/protocol.md §5): only what
 * it vouches for. An accept is forwarded, a held one too (a current member's message for a later
 * epoch: judged, only applied later); one taken on trust is kept but not forwarded, since a peer
 * that can judge its signer's membership might reject it and blame this node; a rejection or an
 * ignore stops there. The live node's inbound pipeline and the simulator's mesh both ask this, so
 * that the rule they run cannot drift apart.
 */
export function forwards(verdict: Verdict): boolean {
  return verdict.verdict === "accept" && verdict.onTrust !== true;
}
