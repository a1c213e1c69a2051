import { createPublicKey, verify } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidKeyFileError, loadOrCreateKey, rawPublicKey, signWith } from "../src/identity/key-file.ts";
import { withNoRoom } from "./no-room.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-key-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateKey", () => {
  it("creates a 0600 key file in a new directory and reloads the same identity", async () => {
    const path = join(dir, "nested", "node.key");
    const first = await loadOrCreateKey(path);
    expect(first.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const second = await loadOrCreateKey(path);
    expect(second.created).toBe(false);
    expect(second.permissionsTooOpen).toBe(false);
    expect(second.peerId.toString()).toBe(first.peerId.toString());
    expect(second.peerId.type).toBe("Ed25519");
  });

  it("on a full disk, throws one line naming the key file and leaves no file behind", async () => {
    const file = join(dir, "node.key");
    expect(await withNoRoom("key", file)).toEqual({
      name: "FileWriteError",
      message: `${file}: cannot write (EFBIG: file too large)`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("flags a key file readable by others", async () => {
    const path = join(dir, "node.key");
    await loadOrCreateKey(path);
    await chmod(path, 0o644);
    expect((await loadOrCreateKey(path)).permissionsTooOpen).toBe(true);
  });

  it("refuses a key path that is a directory, naming it", async () => {
    const path = join(dir, "node.key");
    await mkdir(path);
    const attempt = loadOrCreateKey(path);
    await expect(attempt).rejects.toBeInstanceOf(InvalidKeyFileError);
    await expect(attempt).rejects.toThrow(`${path}: not a valid walras key file (it is a directory)`);
  });

  it("refuses a file that is not a key, naming the file", async () => {
    const path = join(dir, "node.key");
    await writeFile(path, "definitely not a protobuf private key\n");
    const attempt = loadOrCreateKey(path);
    await expect(attempt).rejects.toBeInstanceOf(InvalidKeyFileError);
    await expect(attempt).rejects.toThrow(path);
  });
});

describe("signWith", () => {
  it("makes plain Ed25519 signatures that node:crypto verifies against the raw public key", async () => {
    const { privateKey } = await loadOrCreateKey(join(dir, "node.key"));
    const message = new TextEncoder().encode("walras/demand/v1 some canonical bytes");
    const signature = await signWith(privateKey, message);
    const raw = rawPublicKey(privateKey);
    expect(raw).toHaveLength(32);
    const key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
      format: "jwk",
    });
    expect(verify(null, message, key, signature)).toBe(true);
    const tampered = Uint8Array.from(message);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(verify(null, tampered, key, signature)).toBe(false);
  });
});
