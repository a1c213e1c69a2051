import { describe, expect, it } from "vitest";
import { createUnheardMessages } from "../src/network/unheard-messages.ts";

const bytes = (n: number) => Uint8Array.of(n);

describe("unheard messages", () => {
  it("keeps each topic's messages in order, the newest `max` of them, and hands them out once", () => {
    const unheard = createUnheardMessages(3);
    for (let i = 1; i <= 5; i++) unheard.hold("a", bytes(i));
    unheard.hold("b", bytes(9));
    expect(unheard.take("a")).toEqual([bytes(3), bytes(4), bytes(5)]);
    expect(unheard.take("a")).toEqual([]);
    expect(unheard.take("b")).toEqual([bytes(9)]);
  });
});
