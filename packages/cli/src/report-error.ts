import { CommanderError } from "commander";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./cli-error.ts";
import { printable } from "./printable.ts";

/**
 * Turns whatever a command threw into an exit code, printing one line to stderr (and the stack
 * only with --verbose). Commander has already printed its own usage errors and help.
 */
export function reportError(err: unknown, verbose: boolean, stderr: (line: string) => void): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  // A stack trace starts with the message, so --verbose prints it instead of the line.
  const stack = verbose && err instanceof Error ? err.stack : undefined;
  if (err instanceof CliError) {
    stderr(printableLines(stack ?? err.message));
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  stderr(printableLines(stack ?? `error: ${firstLine(message)} (--verbose for details)`));
  return EXIT_FAILURE;
}

/** An error's text may quote what a node or a file said: each line is made printable. */
function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : s.slice(0, i);
}
