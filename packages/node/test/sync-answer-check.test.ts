import {
  type AcceptMessage,
  createSigner,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  signMessage,
  type Unsigned,
  type ViewMessage,
} from "@walras/protocol";
import { describe, expect, it } from "vitest";
import {
  answerByteLimit,
  answerOverPage,
  MAX_ANSWER_MESSAGE_BYTES,
  MAX_DECISION_ANSWER_MESSAGES,
  MIN_DECISION_MESSAGE_BYTES,
} from "../src/network/sync-answer-check.ts";
import { MAX_PAGE_BYTES, MAX_SYNC_PAGE, type SyncRequest } from "../src/network/sync-messages.ts";

const contractId = "a".repeat(64);
const messagesRequest = (limit?: number): SyncRequest => ({
  type: "messages",
  contractId,
  epoch: 0,
  ...(limit !== undefined ? { limit } : {}),
});
const decisionRequest: SyncRequest = { type: "decision", contractId, epoch: 3 };
/** `n` messages of `size` bytes each, base64 as on the wire. */
const answer = (n: number, size = 4) => ({
  messages: Array.from({ length: n }, () => Buffer.alloc(size).toString("base64")),
});

describe("sync answer check", () => {
  it("accepts a messages answer up to the limit asked, and refuses one more", () => {
    expect(answerOverPage(messagesRequest(), answer(MAX_SYNC_PAGE))).toBeNull();
    expect(answerOverPage(messagesRequest(), answer(MAX_SYNC_PAGE + 1))).toBe(
      `${MAX_SYNC_PAGE + 1} messages for a limit of ${MAX_SYNC_PAGE}`,
    );
    expect(answerOverPage(messagesRequest(10), answer(10))).toBeNull();
    expect(answerOverPage(messagesRequest(10), answer(11))).toMatch(/11 messages for a limit of 10/);
  });

  it("accepts a page's bytes plus one whole message, and refuses more, for messages and decisions", () => {
    const page = answer(4, MAX_PAGE_BYTES / 4);
    expect(answerOverPage(messagesRequest(), page)).toBeNull();
    expect(answerOverPage(decisionRequest, page)).toBeNull();
    // A first message up to the gossip maximum is sent whole beside a nearly full page.
    const slack = { messages: [...page.messages, Buffer.alloc(MAX_MESSAGE_BYTES).toString("base64")] };
    expect(answerOverPage(decisionRequest, slack)).toBeNull();
    const over = { messages: [...slack.messages, "AA=="] };
    expect(answerOverPage(decisionRequest, over)).toBe(
      `${MAX_ANSWER_MESSAGE_BYTES + 1} message bytes, over the ${MAX_ANSWER_MESSAGE_BYTES} a page holds`,
    );
    expect(answerOverPage(messagesRequest(), over)).toMatch(/message bytes, over/);
  });

  it("refuses a decision answer with more messages than its bytes can hold, and leaves other answers alone", () => {
    expect(answerOverPage(decisionRequest, answer(MAX_DECISION_ANSWER_MESSAGES))).toBeNull();
    // Tiny "messages" keep far below the byte cap: only their count gives them away.
    expect(answerOverPage(decisionRequest, answer(MAX_DECISION_ANSWER_MESSAGES + 1, 1))).toBe(
      `${MAX_DECISION_ANSWER_MESSAGES + 1} messages, over the ${MAX_DECISION_ANSWER_MESSAGES} a decision answer holds`,
    );
    expect(answerOverPage(decisionRequest, answer(100_000, 0))).toMatch(
      /over the \d+ a decision answer holds/,
    );
    expect(answerOverPage({ type: "status" }, { status: {} })).toBeNull();
    expect(answerOverPage(messagesRequest(), { error: "no" })).toBeNull();
  });

  it("counts no decision message smaller than the floor the count cap rests on", () => {
    const signer = createSigner(new Uint8Array(32));
    const header = { v: PROTOCOL_VERSION, contract: contractId, agent: signer.id, epoch: 0, view: 0 };
    const view = signMessage({ ...header, kind: "view", accepted: null } as Unsigned<ViewMessage>, signer);
    const accept = signMessage(
      { ...header, kind: "accept", plan: "b".repeat(64) } as Unsigned<AcceptMessage>,
      signer,
    );
    for (const m of [view, accept])
      expect(encodeMessage(m).length).toBeGreaterThan(MIN_DECISION_MESSAGE_BYTES);
  });

  it("lets through on the wire every answer the page checks let through", () => {
    const wire = (a: object) => Buffer.byteLength(JSON.stringify(a));
    const full = {
      messages: [
        ...answer(4, MAX_PAGE_BYTES / 4 - 1).messages,
        answer(1, MAX_MESSAGE_BYTES).messages[0] as string,
      ],
    };
    expect(answerOverPage(messagesRequest(), full)).toBeNull();
    expect(wire({ ...full, next: Number.MAX_SAFE_INTEGER })).toBeLessThanOrEqual(
      answerByteLimit(messagesRequest()),
    );
    const many = answer(MAX_SYNC_PAGE, MAX_ANSWER_MESSAGE_BYTES / MAX_SYNC_PAGE - 1);
    expect(answerOverPage(messagesRequest(), many)).toBeNull();
    expect(wire({ ...many, next: Number.MAX_SAFE_INTEGER })).toBeLessThanOrEqual(
      answerByteLimit(messagesRequest()),
    );
    const one = answer(1, MAX_MESSAGE_BYTES);
    expect(wire({ ...one, next: 1 })).toBeLessThanOrEqual(answerByteLimit(messagesRequest(1)));
    const decisions = answer(MAX_DECISION_ANSWER_MESSAGES, MIN_DECISION_MESSAGE_BYTES - 1);
    expect(answerOverPage(decisionRequest, decisions)).toBeNull();
    expect(wire(decisions)).toBeLessThanOrEqual(answerByteLimit(decisionRequest));
    // Far under the transport's 4 MiB, which other answers keep.
    expect(answerByteLimit(decisionRequest)).toBeLessThan(2 * 1024 * 1024);
    expect(answerByteLimit({ type: "status" })).toBe(4 * 1024 * 1024);
  });
});
