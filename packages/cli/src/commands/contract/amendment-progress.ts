import type { AmendmentView } from "../../market-api-client.ts";

/** How far an amendment is from passing, for people: `2 of 3 signatures needed (…a1, …a2)`. */
export function describeProgress(view: AmendmentView | null): string {
  if (!view) return "signatures: not known to the node yet";
  const who = view.signers.map((s) => `…${s.slice(-8)}`).join(", ");
  if (view.needed === null)
    return `${view.signers.length} signed (${who}); the market has no certificate yet`;
  const passed = view.signers.length >= view.needed;
  return `signed by ${view.signers.length} of the ${view.needed} members needed (${who})${
    passed ? ": passed, takes effect at the next slot" : ""
  }`;
}
