/** `--name value` or `--name=value` from this script's command line. */
export function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const inline = argv.find((a) => a.startsWith(`--${name}=`));
  if (inline) return inline.slice(name.length + 3);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A non-negative integer flag, or `fallback` when absent; a bad value throws naming the flag. */
export function nonNegativeInt(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`--${name}: "${text}" is not a non-negative integer`);
  return n;
}

/** One of `choices`, or `fallback` when absent; anything else throws naming the flag. */
export function choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const text = option(name);
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text))
    throw new Error(`--${name}: "${text}" is not one of ${choices.join(", ")}`);
  return text as T;
}

/** A comma-separated list flag of whole numbers >= 1, or `fallback` when absent. */
export function positiveInts(name: string, fallback: string): number[] {
  return numberList(name, fallback, (n) => Number.isSafeInteger(n) && n >= 1, "a whole number >= 1");
}

/** A comma-separated list flag of positive numbers, or `fallback` when absent. */
export function positiveNumbers(name: string, fallback: string): number[] {
  return numberList(name, fallback, (n) => Number.isFinite(n) && n > 0, "a positive number");
}

function numberList(name: string, fallback: string, valid: (n: number) => boolean, what: string): number[] {
  return (option(name) ?? fallback).split(",").map((text) => {
    const n = Number(text.trim());
    if (!valid(n)) throw new Error(`--${name}: "${text}" is not ${what}`);
    return n;
  });
}
