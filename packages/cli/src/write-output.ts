import { writeFile } from "node:fs/promises";
import { FailureError } from "./cli-error.ts";

/** Writes `text` to `path`, or to stdout when no path is given. */
export async function writeOutput(text: string, path: string | undefined): Promise<void> {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  if (path === undefined) {
    process.stdout.write(body);
    return;
  }
  try {
    await writeFile(path, body, "utf8");
  } catch (err) {
    throw new FailureError(`${path}: cannot write: ${(err as Error).message}`);
  }
}

/** The --json output of every command: one pretty-printed object. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
