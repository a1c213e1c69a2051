import { multiaddr } from "@multiformats/multiaddr";

/**
 * Why `text` is not a usable multiaddr, or undefined when it is. Lets a front end reject a bad
 * address as bad input before any host starts.
 */
export function multiaddrProblem(text: string): string | undefined {
  try {
    const addr = multiaddr(text);
    if (addr.getComponents().length === 0) return "empty multiaddr";
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
