import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiTokenFile, InvalidApiTokenFileError, loadOrCreateApiToken } from "../src/http/api-token.ts";
import { withNoRoom } from "./no-room.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-token-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateApiToken", () => {
  it("creates a 0600 token file on first start and reads the same token after", async () => {
    const first = loadOrCreateApiToken(dir);
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(apiTokenFile(dir))).mode & 0o777).toBe(0o600);
    expect(loadOrCreateApiToken(dir)).toEqual({
      token: first.token,
      file: apiTokenFile(dir),
      permissionsTooOpen: false,
    });
  });

  it("leaves no token file when its write fails (a full disk), so the next start makes one", async () => {
    const failed = await withNoRoom("api-token", dir);
    expect(failed).toMatchObject({ message: expect.stringMatching(/EFBIG/) });
    // Before, an empty api.token stayed and refused every later start.
    expect(await readdir(dir)).toEqual([]);
    expect(loadOrCreateApiToken(dir).token).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps an operator's token and flags a file readable by others", async () => {
    const provisioned = "ab".repeat(32);
    await writeFile(apiTokenFile(dir), `${provisioned}\n`, { mode: 0o644 });
    await chmod(apiTokenFile(dir), 0o644);
    expect(loadOrCreateApiToken(dir)).toEqual({
      token: provisioned,
      file: apiTokenFile(dir),
      permissionsTooOpen: true,
    });
  });

  it("refuses a malformed token file, naming it and what is wrong, and leaves it as it was", async () => {
    const file = apiTokenFile(dir);
    for (const [content, why] of [
      ["AB".repeat(32), /64 characters, not all lowercase hex digits; expected 64 lowercase hex digits/],
      ["abc123", /6 hex digits; expected 64 lowercase hex digits/],
      ["\n", /it is empty/],
    ] as const) {
      await writeFile(file, content);
      const attempt = () => loadOrCreateApiToken(dir);
      expect(attempt).toThrow(InvalidApiTokenFileError);
      expect(attempt).toThrow(`${file}: not a walras API token file (`);
      expect(attempt).toThrow(why);
      expect(await readFile(file, "utf8")).toBe(content);
    }
  });

  it("refuses a token path that is a directory, naming it", async () => {
    await mkdir(apiTokenFile(dir));
    expect(() => loadOrCreateApiToken(dir)).toThrow(
      `${apiTokenFile(dir)}: not a walras API token file (it is a directory)`,
    );
  });
});
