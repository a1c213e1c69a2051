import { WIRE_NUMBER_BOUND } from "../wire/protocol-numbers.ts";

/**
 * No price rule prices a resource above this: the wire's number bound, so every price a node
 * publishes is one every other node accepts. A market whose clearing price lies beyond it stalls
 * with reason "price-ceiling" and settles approximate (stall-rule.ts, docs/protocol.md §8).
 */
export const PRICE_CEILING = WIRE_NUMBER_BOUND;
