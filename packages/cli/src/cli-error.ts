/** Exit codes: the contract between `walras` and the scripts that call it. */
export const EXIT_OK = 0;
/** The command ran and failed (no equilibrium within the round limit, a node that did not start). */
export const EXIT_FAILURE = 1;
/** The command was not run: a bad flag, a missing or malformed input file. */
export const EXIT_USAGE = 2;

/**
 * An error whose message is already the one line the user should see, e.g.
 * `scenario.json: agents[3].valuation.alpha: must be > 0`.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Bad input: a flag, a file or a field. Exit code 2. */
export class InputError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = "InputError";
  }
}

/** The command ran but did not succeed. Exit code 1. */
export class FailureError extends CliError {
  constructor(message: string) {
    super(message, EXIT_FAILURE);
    this.name = "FailureError";
  }
}
