import { z } from "zod";

/**
 * The protocol's number bound: every number a message carries (other than counters) is within
 * ±WIRE_NUMBER_BOUND, and so is every number a contract or an agent profile may hold, so that
 * input the CLI accepts can only produce messages every node accepts (docs/protocol.md §4).
 */
export const WIRE_NUMBER_BOUND = 1e12;
/**
 * The smallest magnitude a positive parameter may have (a capacity, a valuation's scale, a
 * non-zero footprint entry): 24 decades between the two bounds are room for any market's units,
 * and keep the arithmetic clear of overflow and subnormals.
 */
export const MIN_MAGNITUDE = 1e-12;

const within = `must be within ±${WIRE_NUMBER_BOUND.toExponential()} (the protocol's number bound)`;
const finite = z.number().refine(Number.isFinite, "must be finite");

/** Any number a contract or profile holds: finite and within the bound. */
export const boundedNumber = finite.refine((n) => Math.abs(n) <= WIRE_NUMBER_BOUND, within);
/** 0, or a magnitude within [MIN_MAGNITUDE, WIRE_NUMBER_BOUND]. */
export const boundedEntry = boundedNumber.refine(
  (n) => n === 0 || Math.abs(n) >= MIN_MAGNITUDE,
  `must be 0 or at least ${MIN_MAGNITUDE.toExponential()} in magnitude`,
);
/** A positive parameter in [MIN_MAGNITUDE, WIRE_NUMBER_BOUND]. */
export const boundedPositive = boundedNumber.refine(
  (n) => n >= MIN_MAGNITUDE,
  `must be at least ${MIN_MAGNITUDE.toExponential()}`,
);
/** A non-negative parameter in [0, WIRE_NUMBER_BOUND]. */
export const boundedNonNegative = boundedNumber.refine((n) => n >= 0, "must be >= 0");
