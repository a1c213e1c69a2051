import { readFile } from "node:fs/promises";
import { parseWith } from "@walras/protocol";
import type { z } from "zod";
import { InputError } from "./cli-error.ts";

/** Where a JSON input comes from: a path, or "-" for stdin. */
export function sourceName(path: string): string {
  return path === "-" ? "<stdin>" : path;
}

/**
 * Reads, parses and validates a JSON file. Every failure is an InputError whose message names the
 * file and, for a schema failure, the first bad field: `x.json: no such file`,
 * `x.json: not valid JSON: ...`, `x.json: agents[3].valuation.alpha: must be > 0`.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
  const source = sourceName(path);
  const text = await readText(path, source);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = parseWith(schema, json, source);
  if (!parsed.ok) throw new InputError(parsed.error);
  return parsed.value;
}

async function readText(path: string, source: string): Promise<string> {
  try {
    return path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`${source}: no such file`);
    if (code === "EISDIR") throw new InputError(`${source}: is a directory`);
    if (code === "EACCES") throw new InputError(`${source}: permission denied`);
    throw new InputError(`${source}: cannot read: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
