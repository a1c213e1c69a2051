import { InvalidArgumentError } from "commander";

/**
 * Argument parsers for commander options. Each throws InvalidArgumentError, which commander turns
 * into one line naming the option (`option '--agents <n>' argument 'x' is invalid. ...`), exit 2.
 */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
}

export const positiveInteger = integerAtLeast(1);

export function seedInteger(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw new InvalidArgumentError("must be an integer in [0, 4294967295]");
  return n;
}

export function positiveNumber(value: string): number {
  const n = finiteNumber(value);
  if (n <= 0) throw new InvalidArgumentError("must be > 0");
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = finiteNumber(value);
  if (n < 0) throw new InvalidArgumentError("must be >= 0");
  return n;
}

function finiteNumber(value: string): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("must be a number");
  return n;
}

/** A probability or a relative step: a number in [0, 1). */
export function unitFraction(value: string): number {
  const n = finiteNumber(value);
  if (n < 0 || n >= 1) throw new InvalidArgumentError("must be in [0, 1)");
  return n;
}
