import { multiaddrProblem } from "@walras/node";
import { InputError } from "../../cli-error.ts";

/** Every address must parse as a multiaddr; `what` names where it came from (a flag or argument). */
export function checkAddresses(what: string, addrs: readonly string[] | undefined): void {
  for (const a of addrs ?? []) {
    const problem = multiaddrProblem(a);
    if (problem)
      throw new InputError(
        `${what}: "${a}" is not a multiaddr (${problem}); e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...`,
      );
  }
}
