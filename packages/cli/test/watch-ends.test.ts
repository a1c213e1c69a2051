import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startWalras, type WalrasProcess, waitFor } from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";

/**
 * How `walras watch` ends, as a script sees it (stdout a pipe): against a stand-in node that serves
 * a status which never converges, and then stops answering.
 */

const servers: Server[] = [];
const watches: WalrasProcess[] = [];
afterEach(async () => {
  // A watch that failed its test may still be polling.
  await Promise.all(watches.splice(0).map((w) => w.stop(2_000)));
  await Promise.all(servers.splice(0).map(stop));
});

function startWatch(args: string[]): WalrasProcess {
  const w = startWalras(["watch", ...args]);
  watches.push(w);
  return w;
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A node at epoch 3, still running: converged is never reached. */
async function unconvergedNode(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== "/status") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        peerId: "12D3KooWstandin",
        epoch: 3,
        round: 7,
        status: "running",
        prices: { capacity: 1.5 },
        residual: 0.25,
        agreement: null,
        members: ["a", "b"],
        peers: 1,
        certificate: null,
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const FIRST_LINE = /^epoch 3 round 7 running prices capacity=1\.5 /m;

describe("walras watch: how it ends", () => {
  it("--until-converged stopped by SIGINT or SIGTERM before convergence exits 1, saying so; without it, 0", async () => {
    const { url } = await unconvergedNode();
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const w = startWatch(["--node", url, "--until-converged", "--interval", "50"]);
      await w.waitForLine(FIRST_LINE, 60_000);
      w.child.kill(signal);
      expect(await w.exited, `${signal}: ${w.stderr()}`).toBe(1);
      expect(w.stderr()).toBe(`${url}: interrupted before convergence (epoch 3, round 7, running)\n`);
    }
    // A plain watch is ended by Ctrl-C: that is its normal end.
    const plain = startWatch(["--node", url, "--interval", "50"]);
    await plain.waitForLine(FIRST_LINE, 60_000);
    plain.child.kill("SIGINT");
    expect(await plain.exited, plain.stderr()).toBe(0);
    expect(plain.stderr()).toBe("");
  });

  it("in a pipe, a node that stops answering is reported on stderr once, and after --max-failures polls in a row watch gives up, exit 1", async () => {
    const { server, url } = await unconvergedNode();
    const w = startWatch(["--node", url, "--until-converged", "--interval", "50", "--max-failures", "5"]);
    await w.waitForLine(FIRST_LINE, 60_000);
    await stop(server);
    await waitFor(() => w.stderr().includes("\n"), {
      timeoutMs: 30_000,
      what: "a line on stderr",
    });
    expect(await w.exited, w.stderr()).toBe(1);
    const failure = `${url}/status: no answer (ECONNREFUSED)`;
    // The same failure again is not repeated; the last line is the one that ends it.
    expect(w.stderr()).toBe(`poll failed: ${failure}\n${failure}; gave up after 5 failed polls in a row\n`);
    // The unchanged status is printed once, however many polls saw it (FIRST_LINE has no g flag,
    // so match() would give one hit however many lines there were: the lines are counted).
    const lines = w.stdout().split("\n");
    expect(lines.filter((line) => FIRST_LINE.test(line))).toHaveLength(1);
  });
});
