import type { TestContext } from "vitest";

/**
 * For the tests of a `describe(name, { concurrent: false, shuffle: false }, ...)` block (run one at
 * a time, in the order declared; vitest 5 has no `describe.sequential`) that are the steps
 * of one scenario, its state carried from step to step (a ledger that grows, a node stopped and
 * restarted): called first in each step, it skips the step unless every test before it in the
 * block passed, naming the first that did not and why (failed, or did not run, as under `-t`),
 * rather than letting the step fail on state that was never made.
 */
export function afterEarlierSteps(context: TestContext): void {
  const steps = context.task.suite?.tasks ?? [];
  const at = steps.indexOf(context.task);
  for (const [i, step] of steps.slice(0, at).entries()) {
    const state = step.result?.state;
    if (state === "pass") continue;
    context.skip(
      `skipped because step ${i + 1} ("${step.name}") ${state === "fail" ? "failed" : "did not run"}`,
    );
  }
}
