import { execFile } from "node:child_process";
import { WALRAS_BIN } from "./walras-bin.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `walras` executable in a child process, as a user would. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; input?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return runCommand(process.execPath, [WALRAS_BIN, ...args], options);
}

/**
 * Runs any executable to its end and keeps its output. `env` adds to this process's environment;
 * `replaceEnv` is the child's whole environment instead (to leave out PATH entries, say).
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: {
    cwd?: string;
    input?: string;
    env?: Record<string, string>;
    replaceEnv?: NodeJS.ProcessEnv;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      {
        cwd: options.cwd,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.replaceEnv
          ? { env: options.replaceEnv }
          : options.env
            ? { env: { ...process.env, ...options.env } }
            : {}),
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
