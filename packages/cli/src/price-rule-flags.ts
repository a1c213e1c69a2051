import { NEWTON_MODELS, type NewtonModel, type PriceRule } from "@walras/protocol";
import { Option } from "commander";
import { InputError } from "./cli-error.ts";

/** The price-rule flags `contract create`, `devnet` and `simulate` share. */
export interface PriceRuleFlags {
  readonly rule?: PriceRule["kind"];
  readonly step?: number;
  readonly newtonModel?: NewtonModel;
}

export const PRICE_RULES: readonly PriceRule["kind"][] = ["newton", "gradient"];

/**
 * What a contract made here without a price rule of its own gets: newton with the curve model,
 * which clears the paper's markets in 3 rounds instead of 6-7 (docs/economics.md). A contract
 * that names none means the hinge model (the schema's default), so contracts written before keep
 * their rule and their id.
 */
export const NEW_CONTRACT_RULE = { kind: "newton", model: "curves" } as const satisfies PriceRule;

export function newtonModelOption(): Option {
  return new Option(
    "--newton-model <model>",
    "the newton rule's model: curves (the default for a new contract: fits each member's demand curve), hinges (a contract's default when it names none) or sums (steps from the market's sums alone, as committee aggregation can)",
  ).choices([...NEWTON_MODELS]);
}

/**
 * The price rule `flags` ask for on top of `base` (a contract's or scenario's), or undefined when
 * they ask for nothing. `--step` belongs to the gradient rule and `--newton-model` to newton:
 * either given with the other rule is an error naming the command.
 */
export function priceRuleFrom(
  base: PriceRule | undefined,
  flags: PriceRuleFlags,
  command: string,
): PriceRule | undefined {
  const kind = flags.rule ?? base?.kind ?? "newton";
  if (flags.step !== undefined && kind !== "gradient")
    throw new InputError(`${command}: --step applies to --rule gradient only`);
  if (flags.newtonModel !== undefined && kind !== "newton")
    throw new InputError(`${command}: --newton-model applies to --rule newton only`);
  if (flags.rule === undefined && flags.step === undefined && flags.newtonModel === undefined)
    return base === undefined ? NEW_CONTRACT_RULE : undefined;
  if (kind === "gradient") {
    const step =
      flags.step ?? (base?.kind === "gradient" && flags.rule === undefined ? base.step : undefined);
    return step !== undefined ? { kind, step } : { kind };
  }
  // A newton base keeps its model (absent in a contract means hinges), `--rule newton` restated or
  // not; only a rule new to the contract gets curves.
  const inherited = base?.kind === "newton" ? (base.model ?? "hinges") : undefined;
  const model = flags.newtonModel ?? inherited ?? NEW_CONTRACT_RULE.model;
  // The hinge model is the contract's default: written out it would name the same rule under another contract id.
  return model === "hinges" ? { kind } : { kind, model };
}
