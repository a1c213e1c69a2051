import { FileWriteError } from "@walras/node";
import { describe, expect, it } from "vitest";
import { FailureError, InputError } from "../src/cli-error.ts";
import type { NodeRuntimeFlags } from "../src/commands/node/node-options.ts";
import { startFailure } from "../src/commands/node/start-failure.ts";

const flags = { dataDir: "/srv/walras" } as NodeRuntimeFlags;

/** A system error as Node's fs raises it, from a write through a descriptor (no path in it). */
function errno(code: string, text: string, path?: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text}, write`);
  err.code = code;
  if (path !== undefined) err.path = path;
  return err;
}

describe("a start that failed on a write", () => {
  it("names the file on a full disk, in one line, as a failure of the machine (exit 1)", () => {
    const failure = startFailure(
      new FileWriteError("/srv/walras/walras.lock", errno("ENOSPC", "no space left on device")),
      flags,
    );
    expect(failure).toBeInstanceOf(FailureError);
    expect(failure.message).toBe(
      "node did not start: /srv/walras/walras.lock: cannot write (ENOSPC: no space left on device)",
    );
  });

  it("asks for another --data-dir on a read-only one (exit 2)", () => {
    const failure = startFailure(
      new FileWriteError("/srv/walras/node.key", errno("EROFS", "read-only file system")),
      flags,
    );
    expect(failure).toBeInstanceOf(InputError);
    expect(failure.message).toBe(
      "/srv/walras/node.key: cannot write (EROFS: read-only file system); use another --data-dir",
    );
  });

  it("names the path Node gives, else the data dir, for a write no file of the node's wrapped", () => {
    expect(startFailure(errno("ENOSPC", "no space left on device"), flags).message).toBe(
      "node did not start: /srv/walras: cannot write (ENOSPC: no space left on device)",
    );
    expect(startFailure(errno("EDQUOT", "disk quota exceeded", "/srv/walras/x"), flags).message).toBe(
      "node did not start: /srv/walras/x: cannot write (EDQUOT: disk quota exceeded)",
    );
  });
});
