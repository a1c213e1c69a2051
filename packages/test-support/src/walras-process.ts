import { type ChildProcess, spawn } from "node:child_process";
import { WALRAS_BIN } from "./walras-bin.ts";

/** A long-running `walras` child process (node start, testnet join, devnet) with its output kept. */
export interface WalrasProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Waits until stdout has a line matching `pattern`; returns the match. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

export function startWalras(args: readonly string[], env: Record<string, string> = {}): WalrasProcess {
  return startCommand(process.execPath, [WALRAS_BIN, ...args], {
    ...process.env,
    WALRAS_LOG_PRETTY: "0",
    ...env,
  });
}

/**
 * Any `walras` executable (an installed one, say) as a long-running child process; `env` is its
 * whole environment.
 */
export function startCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv): WalrasProcess {
  const child = spawn(file, [...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const w of waiters) w();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) return finish(() => resolve(m));
          if (!running())
            finish(() =>
              reject(
                new Error(`walras ${args.join(" ")} exited before printing ${pattern}: ${err.slice(-500)}`),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${err.slice(-500)}`),
              ),
            ),
          timeoutMs,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      }),
    stop: async (graceMs = 10_000) => {
      if (running()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
