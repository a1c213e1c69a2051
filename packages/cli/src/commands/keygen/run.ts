import { stat, unlink } from "node:fs/promises";
import { loadOrCreateKey } from "@walras/node";
import { FailureError, InputError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";

export interface KeygenFlags {
  readonly out: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

export async function runKeygen(flags: KeygenFlags): Promise<void> {
  const existing = await stat(flags.out).catch(() => null);
  if (existing?.isDirectory()) throw new InputError(`${flags.out}: is a directory`);
  if (existing && !flags.force)
    throw new InputError(`${flags.out}: already exists; pass --force to replace it (its identity is lost)`);
  if (existing) await unlink(flags.out);
  let key: Awaited<ReturnType<typeof loadOrCreateKey>>;
  try {
    key = await loadOrCreateKey(flags.out);
  } catch (err) {
    throw new FailureError(`${flags.out}: cannot write key: ${(err as Error).message}`);
  }
  const peerId = key.peerId.toString();
  await writeOutput(flags.json ? jsonText({ peerId, file: flags.out }) : peerId, undefined);
}
