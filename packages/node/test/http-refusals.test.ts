import pino from "pino";
import { describe, expect, it } from "vitest";
import { httpLimits } from "../src/http/http-limits.ts";
import { createHttpRefusals } from "../src/http/http-refusals.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";

describe("HTTP refusals", () => {
  it("count every refusal and log a reason once a minute at most, saying how many were refused since", async () => {
    const metrics = createNodeMetrics();
    const lines: Record<string, unknown>[] = [];
    let now = 0;
    const refusals = createHttpRefusals({
      counter: metrics.httpRefused,
      log: pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      limits: httpLimits({ maxConnections: 2 }),
      now: () => now,
    });
    refusals.refused("connections");
    now = 59_999;
    refusals.refused("connections");
    refusals.refused("connections");
    // Each reason has its own minute.
    refusals.refused("timeout");
    now = 60_000;
    refusals.refused("connections");
    expect(lines.map(({ reason, refused, maxConnections }) => ({ reason, refused, maxConnections }))).toEqual(
      [
        { reason: "connections", refused: 1, maxConnections: 2 },
        { reason: "timeout", refused: 1, maxConnections: undefined },
        { reason: "connections", refused: 3, maxConnections: 2 },
      ],
    );
    const counted = (await metrics.httpRefused.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(counted).toEqual([
      ["connections", 4],
      ["timeout", 1],
    ]);
  });
});
