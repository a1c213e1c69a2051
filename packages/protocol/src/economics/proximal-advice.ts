import type { Contract } from "../wire/contract.ts";

/**
 * Advice for a contract whose proximal term and price rule do not pair well, or null. Under a
 * proximal term the newton rule's model takes the members' proximal slopes for the market's own:
 * it converges slowly or settles approximate ("too-slow"), where the gradient rule (the paper's
 * Algorithm 1) reaches the equilibrium (docs/economics.md). Valid either way: advice, not a rule.
 */
export function proximalRuleAdvice(contract: Contract): string | null {
  if (contract.proximal === 0 || contract.priceRule.kind !== "newton") return null;
  return `proximal ${contract.proximal} with the newton price rule converges slowly or settles approximate; priceRule {"kind":"gradient"} reaches the equilibrium (docs/economics.md)`;
}
