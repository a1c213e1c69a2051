import { lpStream } from "@libp2p/utils";
import { describe, expect, it } from "vitest";
import type { SyncRequest, SyncResponse } from "../src/network/sync-messages.ts";
import {
  handleSync,
  MAX_SYNC_REQUEST_BYTES,
  requestSync,
  SYNC_PROTOCOL,
  SYNC_PROTOCOL_2_0,
  SyncError,
} from "../src/network/sync-protocol.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const CONTRACT = "ab".repeat(32);
const start = loopbackHosts();
const startHost = (bootstrap: string[] = []) => start({ bootstrap });

const stored = [new Uint8Array([1, 2, 3]), new Uint8Array([250, 251])];

/** A pair: `server` answers sync requests, `client` is connected to it. */
async function pair(handler?: (req: SyncRequest, from: string) => Promise<SyncResponse>) {
  const server = await startHost();
  const seen: Array<{ req: SyncRequest; from: string }> = [];
  const errors: unknown[] = [];
  await handleSync(
    server.libp2p,
    handler ??
      (async (req, from) => {
        seen.push({ req, from });
        switch (req.type) {
          case "contract":
            return { contract: req.contractId === CONTRACT ? { name: "test", capacity: [100] } : null };
          case "messages":
            return { messages: stored.map((b) => Buffer.from(b).toString("base64")) };
          case "status":
            return { status: { peerId: server.libp2p.peerId.toString(), epoch: 3 } };
          case "decision":
            return { messages: [] };
          case "ledger":
            return { entries: [], more: false };
        }
      }),
    { onError: (err) => errors.push(err) },
  );
  const address = server.libp2p.getMultiaddrs()[0]?.toString() ?? "";
  const client = await startHost([address]);
  await client.bootstrapped;
  return { server, client, seen, errors, serverId: server.libp2p.peerId };
}

describe("sync protocol", () => {
  it("answers contract, messages and status requests", async () => {
    const { client, serverId, seen, server } = await pair();
    const contract = await requestSync(client.libp2p, serverId, { type: "contract", contractId: CONTRACT });
    expect(contract).toEqual({ contract: { name: "test", capacity: [100] } });
    const unknown = await requestSync(client.libp2p, serverId, {
      type: "contract",
      contractId: "cd".repeat(32),
    });
    expect(unknown).toEqual({ contract: null });

    const messages = await requestSync(client.libp2p, serverId, {
      type: "messages",
      contractId: CONTRACT,
      epoch: 3,
      round: 1,
      kinds: ["demand", "commit"],
    });
    expect(messages.messages.map((m) => new Uint8Array(Buffer.from(m, "base64")))).toEqual(stored);

    const status = await requestSync(client.libp2p, serverId, { type: "status" });
    expect(status.status).toEqual({ peerId: server.libp2p.peerId.toString(), epoch: 3 });

    expect(seen.map((s) => s.req.type)).toEqual(["contract", "contract", "messages", "status"]);
    expect(seen.every((s) => s.from === client.libp2p.peerId.toString())).toBe(true);
    expect(seen[2]?.req).toEqual({
      type: "messages",
      contractId: CONTRACT,
      epoch: 3,
      round: 1,
      kinds: ["demand", "commit"],
    });
  });

  it("answers malformed requests with an error and keeps serving", async () => {
    const { client, serverId, seen, errors } = await pair();

    const notJson = lpStream(await client.libp2p.dialProtocol(serverId, SYNC_PROTOCOL));
    await notJson.write(new TextEncoder().encode("{not json"));
    const notJsonAnswer = JSON.parse(new TextDecoder().decode((await notJson.read()).subarray()));
    expect(notJsonAnswer.error).toMatch(/not UTF-8 JSON/);

    const badField = requestSync(client.libp2p, serverId, {
      type: "messages",
      contractId: "../../etc/passwd",
      epoch: -1,
    } as SyncRequest);
    await expect(badField).rejects.toBeInstanceOf(SyncError);
    await expect(badField).rejects.toThrow(/invalid request at contractId/);

    const unknownType = requestSync(client.libp2p, serverId, { type: "gimme" } as unknown as SyncRequest);
    await expect(unknownType).rejects.toThrow(/invalid request at type/);

    expect(seen).toEqual([]);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect((await requestSync(client.libp2p, serverId, { type: "status" })).status).toHaveProperty(
      "epoch",
      3,
    );
  });

  it("refuses an oversized request without crashing", async () => {
    const { client, serverId, seen } = await pair();
    const stream = await client.libp2p.dialProtocol(serverId, SYNC_PROTOCOL);
    const lp = lpStream(stream);
    const huge = JSON.stringify({ type: "status", padding: "x".repeat(MAX_SYNC_REQUEST_BYTES) });
    await lp.write(new TextEncoder().encode(huge));
    // Either an error answer or a reset stream is acceptable; the handler must not run.
    const answer = await lp.read().then(
      (bytes) => JSON.parse(new TextDecoder().decode(bytes.subarray())) as { error?: string },
      (err: Error) => ({ error: `stream failed: ${err.message}` }),
    );
    expect(answer.error).toMatch(/unreadable request|stream failed/);
    expect(seen).toEqual([]);
    expect((await requestSync(client.libp2p, serverId, { type: "status" })).status).toHaveProperty(
      "epoch",
      3,
    );
  });

  it("turns handler failures, oversized responses and silence into SyncErrors", async () => {
    const { client, serverId, errors } = await pair(async (req) => {
      if (req.type === "status") throw new Error("store closed");
      if (req.type === "messages") return { messages: ["A".repeat(64 * 1024)] };
      return new Promise<SyncResponse>(() => {}); // never answers
    });
    // The peer learns that it failed, not why: the reason may name this node's files.
    const failed = requestSync(client.libp2p, serverId, { type: "status" });
    await expect(failed).rejects.toThrow(/peer answered: handler failed$/);
    await expect(failed).rejects.not.toThrow(/store closed/);
    expect(errors.map(String)).toContain("Error: handler failed: store closed");
    await expect(
      requestSync(
        client.libp2p,
        serverId,
        { type: "messages", contractId: CONTRACT, epoch: 0 },
        { maxBytes: 1024 },
      ),
    ).rejects.toBeInstanceOf(SyncError);
    // Only the last is a timeout to the asker (which then cools off towards that peer).
    const late = requestSync(
      client.libp2p,
      serverId,
      { type: "contract", contractId: CONTRACT },
      { timeoutMs: 300 },
    );
    await expect(late).rejects.toThrow(/timed out/);
    await expect(late).rejects.toMatchObject({ timedOut: true });
    await expect(requestSync(client.libp2p, serverId, { type: "status" })).rejects.toMatchObject({
      timedOut: false,
    });
  });

  it("tells the peer when the handler takes too long", async () => {
    const server = await startHost();
    await handleSync(server.libp2p, () => new Promise<SyncResponse>(() => {}), { handlerTimeoutMs: 200 });
    const client = await startHost([server.libp2p.getMultiaddrs()[0]?.toString() ?? ""]);
    await client.bootstrapped;
    await expect(requestSync(client.libp2p, server.libp2p.peerId, { type: "status" })).rejects.toThrow(
      /handler failed: timed out after 200 ms/,
    );
  });

  it("builds and sends no answer once the asker has reset its stream", async () => {
    const server = await startHost();
    let entered = () => {};
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let built = 0;
    const abandoned: Array<{ type: string; from: string }> = [];
    const errors: unknown[] = [];
    await handleSync(
      server.libp2p,
      async (req) => {
        if (req.type === "messages") {
          entered();
          await gate;
        }
        built += 1;
        return { status: { peerId: server.libp2p.peerId.toString(), epoch: 1 } };
      },
      {
        onAbandoned: (req, from) => abandoned.push({ type: req.type, from }),
        onError: (err) => errors.push(err),
      },
    );
    const client = await startHost([server.libp2p.getMultiaddrs()[0]?.toString() ?? ""]);
    await client.bootstrapped;
    const serverId = server.libp2p.peerId;
    const giveUp = new AbortController();
    const asked = requestSync(
      client.libp2p,
      serverId,
      { type: "messages", contractId: CONTRACT, epoch: 0 },
      { signal: giveUp.signal },
    );
    await handlerEntered;
    giveUp.abort();
    await expect(asked).rejects.toBeInstanceOf(SyncError);
    const syncStreams = () =>
      server.libp2p
        .getConnections(client.libp2p.peerId)
        .flatMap((c) => c.streams)
        .filter((s) => s.protocol === SYNC_PROTOCOL);
    await waitFor("the server to see the asker's reset", () => syncStreams().length === 0);
    release();
    await waitFor("the abandoned request to be reported", () => abandoned.length === 1);
    expect(abandoned).toEqual([{ type: "messages", from: client.libp2p.peerId.toString() }]);
    expect(errors).toEqual([]);
    expect(built).toBe(1);
    // The server goes on answering.
    const status = await requestSync(client.libp2p, serverId, { type: "status" });
    expect(status.status.epoch).toBe(1);
    expect(abandoned).toHaveLength(1);
  });

  it("rejects a response of the wrong shape", async () => {
    const { client, serverId } = await pair(async () => ({ messages: ["not base64 !!"] }));
    await expect(
      requestSync(client.libp2p, serverId, { type: "messages", contractId: CONTRACT, epoch: 0 }),
    ).rejects.toThrow(/malformed messages response/);
  });

  it("names agents over 2.1.0 and leaves them out for a node that speaks only 2.0.0", async () => {
    const request: SyncRequest = {
      type: "messages",
      contractId: CONTRACT,
      epoch: 2,
      round: 4,
      kinds: ["demand"],
      agents: ["a1", "a2"],
    };
    const { client, serverId, seen } = await pair();
    await requestSync(client.libp2p, serverId, request);
    expect(seen[0]?.req).toEqual(request);

    // A node from before `agents`: only 2.0.0, and a strict request schema that refused them.
    const old = await startHost();
    const heard: unknown[] = [];
    await old.libp2p.handle(SYNC_PROTOCOL_2_0, async (stream) => {
      const lp = lpStream(stream);
      const body = JSON.parse(new TextDecoder().decode((await lp.read()).subarray()));
      heard.push(body);
      const answer = "agents" in body ? { error: "invalid request at agents" } : { messages: ["AQID"] };
      await lp.write(new TextEncoder().encode(JSON.stringify(answer)));
      await stream.close();
    });
    const asker = await startHost([old.libp2p.getMultiaddrs()[0]?.toString() ?? ""]);
    await asker.bootstrapped;
    const answer = await requestSync(asker.libp2p, old.libp2p.peerId, request);
    expect(answer.messages).toEqual(["AQID"]);
    const { agents: _, ...everyAgent } = request;
    expect(heard).toEqual([everyAgent]);
  });

  it("still serves a node that speaks only 2.0.0", async () => {
    const { client, serverId, seen } = await pair();
    const lp = lpStream(await client.libp2p.dialProtocol(serverId, SYNC_PROTOCOL_2_0));
    await lp.write(new TextEncoder().encode(JSON.stringify({ type: "status" })));
    const answer = JSON.parse(new TextDecoder().decode((await lp.read()).subarray()));
    expect(answer.status).toHaveProperty("epoch", 3);
    expect(seen.map((s) => s.req.type)).toEqual(["status"]);
  });
});
