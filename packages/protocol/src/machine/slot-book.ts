import type { Digest } from "../wire/ids.ts";
import { messageDigest } from "../wire/message-codec.ts";
import { slotOf, type WireMessage } from "../wire/messages.ts";

export type SlotLookup =
  | { readonly state: "new" }
  | { readonly state: "duplicate" }
  | { readonly state: "conflict"; readonly first: WireMessage };

/**
 * The first message seen for every slot (docs/protocol.md §4): a second copy is a duplicate, a
 * different message is equivocation. It also guards this node's own signing: a slot it already
 * signed (before a restart, say) is never signed again with other content.
 */
export class SlotBook {
  readonly #slots = new Map<string, { digest: Digest; message: WireMessage }>();

  lookup(m: WireMessage): SlotLookup {
    const prior = this.#slots.get(slotOf(m));
    if (!prior) return { state: "new" };
    return prior.digest === messageDigest(m)
      ? { state: "duplicate" }
      : { state: "conflict", first: prior.message };
  }

  record(m: WireMessage): void {
    const slot = slotOf(m);
    if (!this.#slots.has(slot)) this.#slots.set(slot, { digest: messageDigest(m), message: m });
  }

  get(slot: string): WireMessage | undefined {
    return this.#slots.get(slot)?.message;
  }

  forget(m: WireMessage): void {
    const slot = slotOf(m);
    if (this.#slots.get(slot)?.message === m) this.#slots.delete(slot);
  }

  /** Slots of epochs before `epoch` can no longer matter: keeps memory flat over a long run. */
  forgetBefore(epoch: number): void {
    for (const [slot, { message }] of this.#slots)
      if (message.kind !== "join" && message.epoch < epoch) this.#slots.delete(slot);
  }

  get size(): number {
    return this.#slots.size;
  }
}
