import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runCli, startWalras } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Text a node sends (a contract name, a resource id, an error) reaches the operator's terminal:
 * against a stand-in node whose every string carries terminal escape codes, the real CLI prints
 * none of them.
 */

const HOSTILE = "\x1b]0;X\x07\x1b[2J";
const SHOWN = "\\x1b]0;X\\x07\\x1b[2J";
/** Control characters other than the newlines that end the CLI's own lines. */
const controls = (text: string) =>
  [...text].filter((c) => c !== "\n" && (c < " " || (c >= "\u007f" && c <= "\u009f")));

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const json = (code: number, body: unknown) =>
      res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/status")
      return json(200, {
        peerId: `12D3KooW${HOSTILE}`,
        role: "observer",
        contractId: "c".repeat(64),
        contractName: `market ${HOSTILE}\nforged line`,
        status: `running${HOSTILE}`,
        epoch: 3,
        round: 7,
        prices: { [`cpu${HOSTILE}`]: 1.5 },
        residual: 0.25,
        agreement: null,
        member: false,
        members: ["a"],
        voters: [],
        allocation: null,
        peers: 1,
        topicPeers: 1,
        listen: [],
        pendingJoins: [],
        decision: null,
        founder: false,
        certificate: null,
        certified: [],
        equivocations: [],
      });
    if (req.url === "/amendments") return json(409, { error: `refused ${HOSTILE}` });
    json(404, { error: "no route" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("text from a node, as the CLI prints it", () => {
  it("`walras status` shows control codes in names, ids and states as \\xNN text", async () => {
    const run = await runCli(["status", "--node", url]);
    expect(run.code, run.stderr).toBe(0);
    expect(controls(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(`market ${SHOWN}\\x0aforged line`);
    expect(run.stdout).toContain(`cpu${SHOWN}=1.5`);
    expect(run.stdout).not.toMatch(/^forged line/m);
  });

  it("an error the node answers with is printed the same way", async () => {
    const run = await runCli(["contract", "amendments", "--node", url]);
    expect(run.code).toBe(1);
    expect(controls(run.stderr)).toEqual([]);
    expect(run.stderr).toContain(`refused ${SHOWN} (HTTP 409)`);
  });

  it("`walras watch` in a pipe too", async () => {
    const watch = startWalras(["watch", "--node", url, "--interval", "50"]);
    try {
      await watch.waitForLine(/^epoch 3 round 7 /m, 60_000);
    } finally {
      await watch.stop(2_000);
    }
    expect(watch.stdout()).toContain(`running${SHOWN} prices cpu${SHOWN}=1.5`);
    expect(controls(watch.stdout() + watch.stderr())).toEqual([]);
  });
});
