import { fetchNodeStatus } from "@walras/node";
import { jsonText, writeOutput } from "../../write-output.ts";
import { askNode } from "./ask-node.ts";
import { formatStatus } from "./format-status.ts";

export async function runStatus(flags: { readonly node: string; readonly json?: boolean }): Promise<void> {
  const status = await askNode(() => fetchNodeStatus(flags.node));
  await writeOutput(flags.json ? jsonText(status) : formatStatus(status), undefined);
}
