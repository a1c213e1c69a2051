import type { MessageWriter } from "../src/store/message-writer.ts";

/** A message writer that stores nothing and never fails; `parts` records what a test watches. */
export function idleWriter(parts: Partial<Pick<MessageWriter, "received" | "own">> = {}): MessageWriter {
  return {
    received: () => {},
    own: () => {},
    flush: () => {},
    stop: () => {},
    unwritten: () => [],
    ownTriedFrom: 0,
    failing: false,
    pending: 0,
    ...parts,
  };
}
