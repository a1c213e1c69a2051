import type { ComponentLogger, Logger } from "@libp2p/interface";

const silent: Logger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: () => silent,
});

/**
 * libp2p's debug logger when `DEBUG` asks for it, else one that drops everything. libp2p scopes a
 * new logger for every stream (each ping, identify and sync request), and building one asked
 * whether stderr is a terminal each time: 3% of a 25-node network's CPU, for logs that `DEBUG`
 * alone turns on. walras's own logs go through pino either way.
 */
export function libp2pLogger(env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  if (env.DEBUG !== undefined && env.DEBUG !== "") return undefined;
  return { forComponent: () => silent };
}
