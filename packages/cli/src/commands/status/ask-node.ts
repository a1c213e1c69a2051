import { StatusClientError } from "@walras/node";
import { FailureError } from "../../cli-error.ts";

/** Runs a request to a node's status API; an unreachable or odd node is a failure (exit 1), in one line. */
export async function askNode<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (err instanceof StatusClientError) throw new FailureError(err.message);
    throw err;
  }
}
