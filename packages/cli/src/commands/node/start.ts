import { checkAddresses } from "./check-addresses.ts";
import { checkFootprint, loadAgent, loadContract } from "./load-inputs.ts";
import type { NodeRuntimeFlags } from "./node-options.ts";
import { runNodeUntilStopped } from "./run-node.ts";

export interface NodeStartFlags extends NodeRuntimeFlags {
  readonly contract: string;
  readonly agent?: string;
  readonly bootstrap?: string[];
}

export async function runNodeStart(flags: NodeStartFlags): Promise<void> {
  checkAddresses("--listen", flags.listen);
  checkAddresses("--bootstrap", flags.bootstrap);
  const contract = await loadContract(flags.contract);
  const agent = flags.agent ? checkFootprint(flags.agent, await loadAgent(flags.agent), contract) : undefined;
  await runNodeUntilStopped(
    { contract, ...(agent ? { agent } : {}), ...(flags.bootstrap ? { bootstrap: flags.bootstrap } : {}) },
    flags,
    { contractFile: flags.contract },
  );
}
