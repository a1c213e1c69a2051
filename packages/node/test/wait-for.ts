import { waitFor as poll } from "@walras/test-support";

/** The shared poller (@walras/test-support), with what is awaited named first, as these tests read. */
export function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  return poll(condition, { timeoutMs, intervalMs, what });
}
