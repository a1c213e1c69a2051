import { createServer } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const start = loopbackHosts();

/**
 * A loopback port held by a plain TCP server that drops every connection, so a dial to it fails
 * and no other process can take the port until `release`. (Stopping a host and reusing its port
 * left the port free for anyone in between.)
 */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    port: address.port,
    release: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

describe("host", () => {
  it("keeps dialing a bootstrap address that is not up yet, and connects once it is", async () => {
    const held = await holdPort();
    const port = held.port;

    const lines: Array<{ msg: string }> = [];
    const logger = pino(
      { level: "debug" },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const dialer = await start({
      bootstrap: [`/ip4/127.0.0.1/tcp/${port}`],
      bootstrapBackoffMs: { initial: 50, max: 200 },
      logger,
    });
    await waitFor(
      "two failed bootstrap dials",
      () => lines.filter((l) => l.msg === "bootstrap dial failed").length >= 2,
    );
    expect(dialer.libp2p.getConnections()).toHaveLength(0);

    await held.release();
    const late = await start({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await dialer.bootstrapped;
    expect(dialer.libp2p.getConnections(late.libp2p.peerId)).not.toHaveLength(0);
    expect(lines.some((l) => l.msg === "bootstrap peer connected")).toBe(true);
  });

  it("grows a network bootstrapped from one address into a full mesh with one connection per pair", async () => {
    // A deferral longer than the test: only the smaller id of each pair dials. Before that rule
    // both ends dialed, and pairs held two connections. A node heard each announcement once, from
    // the peers it was connected to then; one that connected later learns the rest by peer
    // exchange while it has fewer than all seven.
    const mesh = {
      discoveryIntervalMs: 300,
      peerExchange: { firstAfterMs: 1_000 },
      discoveryDials: { targetPeers: 12, minPeers: 7, deferMs: 60_000 },
    };
    const first = await start(mesh);
    const bootstrap = [first.libp2p.getMultiaddrs()[0]?.toString() ?? ""];
    const rest = await Promise.all(Array.from({ length: 7 }, () => start({ ...mesh, bootstrap })));
    const all = [first, ...rest];
    await waitFor("every host connected to all seven others", async () =>
      all.every((h) => h.libp2p.getPeers().length === 7),
    );
    for (const h of all) expect(h.libp2p.getConnections()).toHaveLength(7);
  });

  it("names a malformed bootstrap address", async () => {
    await expect(start({ bootstrap: ["not-a-multiaddr"] })).rejects.toThrow(
      /bootstrap address "not-a-multiaddr"/,
    );
  });

  it("puts libp2p metrics in the node's own registry next to walras metrics", async () => {
    const metrics = createNodeMetrics(new Registry());
    const server = await start({ metricsRegistry: metrics.registry });
    const client = await start({ bootstrap: [server.libp2p.getMultiaddrs()[0]?.toString() ?? ""] });
    await client.bootstrapped;
    await waitFor("libp2p connection metrics", async () =>
      (await metrics.render()).includes("libp2p_connection_manager_connections"),
    );
    expect(await metrics.render()).toContain("walras_messages_accepted_total");
  });
});
