import { waitFor as poll } from "../../../test/support/wait-for.ts";

/** The shared poller (test/support/wait-for.ts), with what is awaited named first, as these tests read. */
export function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  return poll(condition, { timeoutMs, intervalMs, what });
}
