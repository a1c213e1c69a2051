import {
  type AgentProfile,
  agentProfileSchema,
  type Contract,
  contractSchema,
  minMembersProblem,
} from "@walras/protocol";
import { InputError } from "../../cli-error.ts";
import { readJsonFile, sourceName } from "../../read-json-file.ts";

/** A contract to run: valid, and one whose market can be founded (else every node waits forever). */
export async function loadContract(file: string): Promise<Contract> {
  const contract = await readJsonFile(file, contractSchema);
  const unfoundable = minMembersProblem(contract);
  if (unfoundable) throw new InputError(`${sourceName(file)}: ${unfoundable}`);
  return contract;
}

export async function loadAgent(file: string): Promise<AgentProfile> {
  return await readJsonFile(file, agentProfileSchema);
}

/** The agent's footprint must have one entry per resource of the contract it bids in. */
export function checkFootprint(file: string, agent: AgentProfile, contract: Contract): AgentProfile {
  const R = contract.resources.length;
  if (agent.footprint.length !== R)
    throw new InputError(
      `${file}: footprint: must have ${R} entr${R === 1 ? "y" : "ies"} (one per resource of contract "${contract.name}"), has ${agent.footprint.length}`,
    );
  return agent;
}
