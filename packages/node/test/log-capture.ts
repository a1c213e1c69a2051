import pino, { type Level, type Logger } from "pino";

/** A logged line, parsed: its message and its fields. */
export interface LoggedLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger at `level` and the lines it writes, parsed, for a test to read what a node said. */
export function captureLog(level: Level = "warn"): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}
