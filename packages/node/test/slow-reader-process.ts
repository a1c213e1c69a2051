import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A client in a process of its own, as real clients are: it asks `path` of a server on `port` and
 * reads the response at 16 KiB every 10 ms. In the test's process its reads waited on the server's
 * event loop: a pause of that process on a loaded machine stopped the client too, and the first
 * looks after it found a client that had read nothing (a 2.5 s pause against a 1.5 s limit had
 * it dropped in three runs of three; with the client in its own process, in none of three).
 */
export interface SlowReader {
  /** Bytes read so far, as last reported (every 20 ms). */
  readonly read: number;
  /** The server closed the connection. */
  readonly closed: boolean;
  stop(): void;
}

const READER = `
const net = require("node:net");
const socket = net.connect(Number(process.argv[1]), "127.0.0.1");
let read = 0;
socket.on("error", () => {});
socket.on("close", () => {
  process.stdout.write(read + "\\nclosed\\n", () => process.exit(0));
});
socket.pause();
socket.write("GET " + process.argv[2] + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n");
setInterval(() => {
  read += (socket.read(16 * 1024) ?? socket.read())?.length ?? 0;
}, 10);
setInterval(() => process.stdout.write(read + "\\n"), 20);
`;

export function startSlowReader(port: number, path: string): SlowReader {
  const child = spawn(process.execPath, ["-e", READER, String(port), path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const state = { read: 0, closed: false };
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "closed") state.closed = true;
    else state.read = Number(line);
  });
  return {
    get read() {
      return state.read;
    },
    get closed() {
      return state.closed;
    },
    stop: () => {
      child.kill("SIGKILL");
    },
  };
}
