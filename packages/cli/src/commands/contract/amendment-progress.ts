import type { AmendmentView } from "../../market-api-client.ts";
import { printable } from "../../printable.ts";

/** How far an amendment is from passing, for people: `2 of 3 signatures needed (…a1, …a2)`. */
export function describeProgress(view: AmendmentView | null): string {
  if (!view) return "signatures: not known to the node yet";
  const who = view.signers.map((s) => `…${printable(s.slice(-8))}`).join(", ");
  if (view.needed === null)
    return `${view.signers.length} signed (${who}); the market has no certificate yet`;
  const passed = view.signers.length >= view.needed;
  return `signed by ${view.signers.length} of the ${view.needed} members needed (${who})${
    passed ? ": passed, takes effect at the next slot" : ""
  }`;
}

/**
 * An amendment the node listed as pending before an approval and no longer lists after it, for
 * people. A pending amendment leaves the list only when the terms in effect change: to it (the
 * approval made the quorum, and the node's next slot, under it, began at once), or to another.
 */
export function describeNoLongerPending(id: string, termsInEffect: string): string {
  return termsInEffect === id
    ? "passed: in effect now (pending no more)"
    : `pending no more: the terms in effect are now ${termsInEffect}`;
}
