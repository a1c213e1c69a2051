/**
 * `pnpm bench`: runs the default bench sections in order, or only those named with `--only a,b`.
 * A section is a script that prints its own table; add one by importing it into `sections`.
 * `scale` (simulated markets of up to 10,000 agents, minutes) runs only when named.
 * Benches measure; they never assert (speed targets are read off the tables).
 */
import { engineBench } from "./engine.ts";
import { networkBench } from "./network.ts";
import { scaleBench } from "./scale.ts";

export interface BenchSection {
  readonly name: string;
  readonly description: string;
  run(): void | Promise<void>;
}

const sections: readonly BenchSection[] = [engineBench, networkBench, scaleBench];
/** Run only when named with --only: they take minutes. */
const OPT_IN = new Set(["scale"]);

function selected(argv: readonly string[]): readonly BenchSection[] {
  const i = argv.indexOf("--only");
  const inline = argv.find((a) => a.startsWith("--only="));
  const list = inline ? inline.slice("--only=".length) : i >= 0 ? argv[i + 1] : undefined;
  if (i >= 0 && list === undefined) throw new Error("--only needs a comma-separated list of section names");
  if (list === undefined) return sections.filter((s) => !OPT_IN.has(s.name));
  const names = list.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !sections.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown section ${unknown.join(", ")} (known: ${sections.map((s) => s.name).join(", ")})`,
    );
  return sections.filter((s) => names.includes(s.name));
}

try {
  for (const section of selected(process.argv.slice(2))) {
    console.log(`\n## ${section.name}: ${section.description}\n`);
    await section.run();
  }
} catch (e) {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
