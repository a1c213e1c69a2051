import { DEFAULT_HTTP_LIMITS, HttpLimitsError, httpLimits } from "@walras/node";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/cli-error.ts";
import {
  HTTP_LIMIT_FLAGS,
  type HttpLimitName,
  httpLimitFlags,
  type NodeRuntimeFlags,
  nodeRuntimeOptions,
} from "../src/commands/node/node-options.ts";
import { startFailure } from "../src/commands/node/start-failure.ts";

const runtime = (argv: string[]): NodeRuntimeFlags => {
  const command = new Command().exitOverride();
  for (const option of nodeRuntimeOptions()) command.addOption(option);
  return command.parse(argv, { from: "user" }).opts() as NodeRuntimeFlags;
};

describe("the node's HTTP limit options", () => {
  it("state the node's own defaults in their help", () => {
    for (const [name, { help }] of Object.entries(HTTP_LIMIT_FLAGS))
      expect(help, name).toContain(`(default ${DEFAULT_HTTP_LIMITS[name as HttpLimitName]})`);
  });

  it("pass what is given, by the node's names, and leave the rest to the node's defaults", () => {
    const flags = runtime(["--http-max-connections", "10", "--http-headers-timeout", "2000"]);
    expect(httpLimitFlags(flags)).toEqual({ maxConnections: 10, headersTimeoutMs: 2000 });
    expect(httpLimitFlags(runtime([]))).toEqual({});
    expect(() => runtime(["--http-max-body", "0"])).toThrow(/must be an integer >= 1/);
  });

  it("pass every limit flag on, each under its own name", () => {
    const names = Object.keys(HTTP_LIMIT_FLAGS) as HttpLimitName[];
    const argv = names.flatMap((name, i) => [
      HTTP_LIMIT_FLAGS[name].flag.split(" ")[0] as string,
      String(i + 1),
    ]);
    expect(httpLimitFlags(runtime(argv))).toEqual(Object.fromEntries(names.map((name, i) => [name, i + 1])));
  });

  it("name the flags when the headers timeout passes the request timeout", () => {
    const flags = runtime(["--http-headers-timeout", "40000"]);
    let err: unknown;
    try {
      httpLimits(httpLimitFlags(flags));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpLimitsError);
    const failure = startFailure(err, flags);
    expect(failure).toBeInstanceOf(InputError);
    expect(failure.message).toMatch(/^--http-headers-timeout must not exceed --http-request-timeout/);
  });
});
