import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerInit {
  /** pino level; defaults to $WALRAS_LOG_LEVEL, then "info". */
  level?: string;
  /** Human-readable output; defaults to true when stdout is a TTY or WALRAS_LOG_PRETTY=1. */
  pretty?: boolean;
  /** Fields on every line (e.g. the node's peer id). */
  base?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** File descriptor the lines go to: 1 stdout (default), 2 stderr (keeps stdout for a command's output). */
  fd?: 1 | 2;
}

/** JSON lines for machines, pino-pretty for people at a terminal. */
export function createLogger(init: LoggerInit = {}): Logger {
  const env = init.env ?? process.env;
  const fd = init.fd ?? 1;
  const stream = fd === 2 ? process.stderr : process.stdout;
  const pretty = init.pretty ?? (env.WALRAS_LOG_PRETTY === "1" || stream.isTTY === true);
  const options: LoggerOptions = {
    level: init.level ?? env.WALRAS_LOG_LEVEL ?? "info",
    base: init.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    options.transport = {
      target: "pino-pretty",
      options: { colorize: true, translateTime: "HH:MM:ss.l", destination: fd },
    };
    return pino(options);
  }
  return fd === 2 ? pino(options, pino.destination(2)) : pino(options);
}

/** A logger for one component: every line carries `component`. */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
