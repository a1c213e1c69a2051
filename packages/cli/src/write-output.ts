import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
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

/**
 * Writes `text` to `path` through a temporary file in the same directory and a rename, so a reader
 * (or a crash) never sees half a file, and an existing file is replaced only by a whole new one.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, "utf8");
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new FailureError(`${path}: cannot write: ${(err as Error).message}`);
  }
}
