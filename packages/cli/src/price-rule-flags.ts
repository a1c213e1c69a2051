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

export function newtonModelOption(): Option {
  return new Option(
    "--newton-model <model>",
    "the newton rule's model: hinges (default) or sums (steps from the market's sums alone, as committee aggregation can)",
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
    return undefined;
  if (kind === "gradient") {
    const step =
      flags.step ?? (base?.kind === "gradient" && flags.rule === undefined ? base.step : undefined);
    return step !== undefined ? { kind, step } : { kind };
  }
  const model =
    flags.newtonModel ?? (base?.kind === "newton" && flags.rule === undefined ? base.model : undefined);
  // The hinge model is the default: written out it would name the same rule under another contract id.
  return model === "sums" ? { kind, model } : { kind };
}
