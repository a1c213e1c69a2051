import type { Reporter, TestModule } from "vitest/node";

/**
 * Ends a run with one plain line, `Tests: N passed, N failed, N skipped`, that tools which do not
 * know vitest's own summary (CI's "did it run any test" check) can read.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = (state: "passed" | "failed" | "skipped") =>
      testModules.reduce((sum, m) => sum + [...m.children.allTests(state)].length, 0);
    const failedModules = testModules.filter(
      (m) => m.state() === "failed" && [...m.children.allTests()].length === 0,
    ).length;
    process.stdout.write(
      `\nTests: ${count("passed")} passed, ${count("failed") + failedModules} failed, ${count("skipped")} skipped\n`,
    );
  }
}
