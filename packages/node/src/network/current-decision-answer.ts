import type { WireMessage } from "@walras/protocol";
import { MAX_PAGE_BYTES } from "./sync-messages.ts";

/** What a node that knows no epoch is sent when it asks for the current decision. */
export interface CurrentDecision {
  /** The proposal and accepts (or views) that decided the current epoch. */
  readonly decision: readonly WireMessage[];
  /** The plans that dropped members for equivocation in earlier epochs, oldest first. */
  readonly exclusions: readonly WireMessage[];
}

/**
 * The encoded answer to a `decision` request without an epoch (docs/protocol.md §3): the current
 * decision whole (cut at `maxBytes` only as any page is: its first message always), and ahead of
 * it the exclusion plans that fit in the bytes left over, chosen from the highest epoch down and
 * sent oldest first (a node that adopted an epoch ignores an older plan as stale, so the asker
 * must judge them before the decision). Sent first and cut in send order, ~230 KB plans (a
 * propose of ~1,300 members) left the current decision below a majority of its accepts in every
 * answer, and no joiner could start.
 */
export function currentDecisionAnswer(
  decision: readonly Uint8Array[],
  exclusions: readonly Uint8Array[],
  maxBytes: number = MAX_PAGE_BYTES,
): Uint8Array[] {
  const whole: Uint8Array[] = [];
  let bytes = 0;
  for (const m of decision) {
    if (whole.length > 0 && bytes + m.length > maxBytes) break;
    bytes += m.length;
    whole.push(m);
  }
  const fitting: Uint8Array[] = [];
  for (const m of [...exclusions].reverse()) {
    if (bytes + m.length > maxBytes) continue;
    bytes += m.length;
    fitting.unshift(m);
  }
  return [...fitting, ...whole];
}
