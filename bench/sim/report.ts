import {
  INVARIANTS,
  type InvariantId,
  type SeedResult,
  type Violation,
} from "../../packages/protocol/src/index.ts";

/** What the CLI keeps of one seed's run: small enough to pass between worker threads. */
export interface SeedReport {
  readonly seed: number;
  readonly agents: number;
  readonly events: number;
  /** The first invariant violated, if any. */
  readonly invariant: InvariantId | null;
  /** Every invariant violated (more than one only with --keep-going). */
  readonly invariants: readonly InvariantId[];
  readonly liveness: SeedResult["liveness"]["status"];
  /** Lost to a leave cut short (liveness "cut-short"): whether each such leaver was cut off. */
  readonly cutOff: boolean | null;
  /** Bound minus the time liveness took after the last change, ms (when it held). */
  readonly slackMs: number | null;
  /** Demands at a member's activity cap, and epochs with one that certified (SeedResult.capExits). */
  readonly capExits: SeedResult["capExits"];
  /** Decision messages taken straight from a bootstrap node's gossip (SeedResult.bootstrapTaken). */
  readonly bootstrapTaken: SeedResult["bootstrapTaken"];
  /** The failure, its context and the last events before it; empty when the seed passed. */
  readonly failure: readonly string[];
}

export function reportOf(r: SeedResult): SeedReport {
  return {
    seed: r.seed,
    agents: r.schedule.agents.length,
    events: r.events,
    invariant: r.violation?.invariant ?? null,
    invariants: r.violations.map((v) => v.invariant),
    liveness: r.liveness.status,
    cutOff: r.liveness.status === "cut-short" ? r.liveness.cutOff : null,
    slackMs: r.liveness.status === "held" ? r.liveness.boundMs - r.liveness.afterLastChangeMs : null,
    capExits: r.capExits,
    bootstrapTaken: r.bootstrapTaken,
    failure: describeFailure(r),
  };
}

function describeFailure(r: SeedResult): string[] {
  const [first, ...more] = r.violations;
  if (!first) return [];
  const s = r.schedule;
  const line = (v: Violation) =>
    `${v.invariant} (${INVARIANTS[v.invariant]}) at ${v.at.toFixed(1)} ms on ${v.node}: ${v.summary}`;
  return [
    `FAIL seed ${r.seed}: ${line(first)}`,
    ...first.context.map((c) => `    ${c}`),
    ...more.flatMap((v) => [`  and ${line(v)}`, ...v.context.map((c) => `    ${c}`)]),
    `    schedule: ${s.agents.length} agents, ${s.faults.length} faults, loss ${(100 * s.network.loss).toFixed(1)}%${s.network.syncServeMs ? `, sync answers up to ${s.network.syncServeMs} ms late` : ""}, minMembers ${s.contract.minMembers}, fixed fee ${s.contract.fees.fixed}`,
    `    replay: pnpm sim --seed ${r.seed} --trace`,
    "    last events:",
    ...r.recent.slice(-12).map((line) => `    | ${line}`),
  ];
}

/** The run's totals: failure rate, the violated invariants with example seeds, liveness slack. */
export function summarize(reports: readonly SeedReport[], cpuSeconds: number, wallSeconds: number): string[] {
  const sorted = [...reports].sort((a, b) => a.seed - b.seed);
  const failures = new Map<InvariantId, number[]>();
  for (const r of sorted)
    if (r.invariant) failures.set(r.invariant, [...(failures.get(r.invariant) ?? []), r.seed]);
  const failed = sorted.filter((r) => r.invariant).length;
  const exempt = sorted.filter((r) => r.liveness === "exempt").length;
  const first = sorted[0]?.seed ?? 0;
  const last = sorted.at(-1)?.seed ?? 0;
  const events = sorted.reduce((n, r) => n + r.events, 0);
  const lines = [
    `walras sim: ${sorted.length} seeds (${first}..${last}), ${failed} failed (${((100 * failed) / Math.max(1, sorted.length)).toFixed(1)}%), ${exempt} without a live majority (liveness not asked), ${Math.min(...sorted.map((r) => r.agents))}-${Math.max(...sorted.map((r) => r.agents))} agents`,
  ];
  if (failed > 0) lines.push("  first violation of each failing seed:");
  for (const [id, seeds] of [...failures.entries()].sort()) {
    const shown = seeds.slice(0, 8).join(", ");
    lines.push(
      `  ${id.padEnd(9)} ${String(seeds.length).padStart(6)}  ${INVARIANTS[id]}  (seeds ${shown}${seeds.length > 8 ? ", …" : ""})`,
    );
  }
  const all = new Map<InvariantId, number>();
  for (const r of sorted) for (const id of r.invariants) all.set(id, (all.get(id) ?? 0) + 1);
  if (sorted.some((r) => r.invariants.length > 1))
    lines.push(
      `  seeds breaking each invariant at all (every one only with --keep-going): ${[...all.entries()]
        .sort()
        .map(([id, n]) => `${id} ${n}`)
        .join(", ")}`,
    );
  const cutShort = (cutOff: boolean) =>
    sorted.filter((r) => r.liveness === "cut-short" && r.cutOff === cutOff).map((r) => r.seed);
  const [heard, cutOff] = [cutShort(false), cutShort(true)];
  if (heard.length + cutOff.length > 0)
    lines.push(
      `  ${heard.length + cutOff.length} without a live majority only because a leaver went by its own rule before any member that stays held an epoch without it (liveness not asked): ${heard.length} that heard the others all its stay (seeds ${heard.join(", ") || "none"}), ${cutOff.length} cut off from them for a while (seeds ${cutOff.join(", ") || "none"})`,
    );
  const held = sorted.filter((r) => r.slackMs !== null);
  if (held.length > 0) {
    const tight = held.reduce((a, b) => ((b.slackMs as number) < (a.slackMs as number) ? b : a));
    lines.push(
      `  liveness held in ${held.length} seeds; smallest slack to the bound ${((tight.slackMs as number) / 1000).toFixed(1)} s (seed ${tight.seed})`,
    );
  }
  const capped = sorted.filter((r) => r.capExits.demands > 0);
  if (capped.length > 0)
    lines.push(
      `  a member at its activity cap in ${capped.length} seeds (${capped.reduce((n, r) => n + r.capExits.demands, 0)} demands with exit); ${capped.filter((r) => r.capExits.certifiedEpochs > 0).length} of them certified such an epoch`,
    );
  const taken = (side: "founder" | "other") => {
    const seeds = sorted.filter((r) => r.bootstrapTaken[side].taken > 0);
    const sum = (k: "taken" | "adopted") => seeds.reduce((n, r) => n + r.bootstrapTaken[side][k], 0);
    return `${sum("taken")} from ${side === "founder" ? "the founder" : "another node"} in ${seeds.length} seeds (${sum("adopted")} adopting an epoch)`;
  };
  lines.push(
    `  decision messages taken by gossip straight from a bootstrap node: ${taken("founder")}, ${taken("other")}`,
  );
  lines.push(
    `  ${events} events; ${cpuSeconds.toFixed(1)} s CPU, ${wallSeconds.toFixed(1)} s wall: ${(sorted.length / cpuSeconds).toFixed(1)} seeds per CPU second`,
  );
  return lines;
}
