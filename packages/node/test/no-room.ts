import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * Runs test/fixtures/no-room.ts `what` on `path` with the file size limit at 0 (`ulimit -f 0`): a
 * file can be created but not one byte written to it (EFBIG; Node ignores SIGXFSZ), which is how a
 * full disk fails a write, with no root and no tmpfs. Its answer: "ok" or the error as JSON.
 */
export async function withNoRoom(
  what: string,
  path: string,
): Promise<{ name: string; message: string } | "ok"> {
  const fixture = join(import.meta.dirname, "fixtures", "no-room.ts");
  const child = spawn("sh", ["-c", 'ulimit -f 0 && exec "$0" "$@"', process.execPath, fixture, what, path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`no-room.ts ${what} exited ${code}: ${out}`);
  const line = out.trim();
  return line === "ok" ? "ok" : JSON.parse(line);
}
