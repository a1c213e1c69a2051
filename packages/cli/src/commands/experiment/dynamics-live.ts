import {
  type Contract,
  ledgerSlots,
  measureLiveDynamics,
  type ResolvedShockSchedule,
  type SlotMarket,
  scenarioSchema,
  shockSchedule,
} from "@walras/protocol";
import { renderSvgPanels } from "../../chart/svg-panels.ts";
import { FailureError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { NODE_COMMAND } from "../devnet/node-command.ts";
import { type Devnet, DevnetStartError, startDevnet } from "../devnet/start-devnet.ts";
import { liveDynamicsFigure } from "./dynamics-figure.ts";
import { formatLiveDynamics, type LiveSettings } from "./dynamics-live-format.ts";
import { driveSchedule } from "./live-slot-driver.ts";

/** A certified price this far from an exactly clearing reference price is a wrong answer. */
const PRICE_TOLERANCE = 1e-6;

export interface LiveDynamicsRun extends Omit<LiveSettings, "scheduleEpochs"> {
  readonly schedule: ResolvedShockSchedule;
  readonly maxRounds: number;
  readonly slotTimeoutMs: number;
  readonly svg?: string;
  readonly json?: boolean;
}

/**
 * `walras experiment dynamics --live`: the schedule's slots on real node processes (one per agent,
 * devnet's), read back from the ledger, and measured as the engine's run is: every certified slot
 * against the reference solver for the terms, members and bids it was certified with.
 */
export async function runLiveDynamics(run: LiveDynamicsRun): Promise<void> {
  const o = run.schedule;
  const schedule = shockSchedule(o);
  const first = schedule[0] as SlotMarket;
  const contract = liveContract(first.scenario.contract, run);
  // With --json stdout carries only the result; people still see progress on stderr.
  const say = (line: string) => (run.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(
    `starting ${run.nodes} node processes (a slot every ${run.periodMs} ms), then ${o.slots - 1} slot boundaries ...`,
  );
  let devnet: Devnet | null = null;
  const onSignal = () => {
    void (devnet?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    try {
      devnet = await startDevnet({
        scenario: scenarioSchema.parse({ contract, agents: first.scenario.agents }),
        nodeCommand: NODE_COMMAND,
        basePort: 0,
        httpBasePort: 0,
      });
    } catch (err) {
      if (err instanceof DevnetStartError)
        throw new FailureError(`experiment dynamics --live: ${err.message}`);
      throw err;
    }
    const record = await driveSchedule(devnet, schedule, { slotTimeoutMs: run.slotTimeoutMs, say }).catch(
      (err: unknown) => {
        if (err instanceof FailureError) throw new FailureError(`experiment dynamics --live: ${err.message}`);
        throw err;
      },
    );
    say(`stopping ${devnet.nodes.length} nodes ...`);
    await devnet.stop();
    devnet = null;
    const live = measureLiveDynamics(ledgerSlots(contract, record.entries, record.bidAt));
    const settings = { nodes: run.nodes, periodMs: run.periodMs, scheduleEpochs: record.scheduleEpochs };
    if (run.svg !== undefined)
      await writeOutput(renderSvgPanels(liveDynamicsFigure(o, run.nodes, live)), run.svg);
    await writeOutput(
      run.json
        ? jsonText({
            options: { ...o, maxRounds: run.maxRounds },
            ...settings,
            labels: Object.fromEntries(record.labels),
            ...live,
          })
        : formatLiveDynamics(o, settings, live),
      undefined,
    );
    const wrong = live.slots.find(
      (s) => s.reference.status !== "approximate" && s.reference.priceDeviation > PRICE_TOLERANCE,
    );
    if (wrong)
      throw new FailureError(
        `experiment dynamics --live: slot ${wrong.slot} (epoch ${wrong.epoch}) certified p* ${wrong.prices[0]}, the reference clears at ${wrong.reference.prices[0]}`,
      );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await devnet?.stop();
  }
}

/**
 * Slot 0's terms as a live contract: a `period` so that a slot opens every period with every
 * member's current bid, the first slot waiting for every node, devnet's short timeouts for
 * loopback, and the run's round limit (the engine's per slot).
 */
function liveContract(base: Contract, run: LiveDynamicsRun): Contract {
  return {
    ...base,
    name: `dynamics --live ${run.schedule.shock}, ${run.nodes} nodes, seed ${run.schedule.seed}`,
    minMembers: run.nodes,
    timeouts: { roundMs: 3_000, announceMs: 300 },
    period: { ms: run.periodMs },
    maxRounds: run.maxRounds,
  };
}
