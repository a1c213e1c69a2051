import {
  type AgentProfile,
  agentProfileSchema,
  type Contract,
  contractId,
  contractSchema,
  type LedgerEntry,
  ledgerEntrySchema,
  parseWith,
  type TermsChange,
} from "@walras/protocol";
import { z } from "zod";
import type { ApiToken } from "./api-token.ts";
import { FailureError, InputError } from "./cli-error.ts";
import { printable } from "./printable.ts";

/**
 * The CLI's side of a node's market API (README, packages/node/src/http/market-api.ts): the
 * ledger, amendments and the agent's bid. Every answer is checked against its schema; every
 * failure becomes one line. Exit codes follow one rule: the node judging the request itself wrong
 * (400 a bad profile or amendment, 401 a wrong token, 404 an unknown amendment id) is bad input,
 * exit 2; a node that cannot be reached, or refuses a well-formed request because of its state
 * (409: an observer, not a member, an amendment that changes nothing), is a failure, exit 1, and so
 * is a server that answers without a walras error (not a walras node: a wrong --node).
 */
const REQUEST_TIMEOUT_MS = 10_000;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const amendmentViewSchema = z.object({
  id: hex64,
  terms: contractSchema,
  proposer: z.string(),
  signers: z.array(z.string()),
  needed: z.number().int().nullable(),
});
export type AmendmentView = z.output<typeof amendmentViewSchema>;

/**
 * A page of GET /amendments; `next` is the id to ask `after` for the following page. A node
 * before paging sends them all, with no `next`.
 */
const amendmentsPageSchema = z.object({
  terms: hex64,
  next: hex64.nullable().optional(),
  amendments: z.array(amendmentViewSchema),
});
const profileUpdatedSchema = z.object({ ok: z.literal(true), takesEffect: z.string() });
const proposedSchema = z.object({ id: hex64.nullable(), terms: contractSchema });
const approvedSchema = z.object({ ok: z.literal(true), amendment: amendmentViewSchema.nullable() });
const ledgerPageSchema = z.object({
  contract: hex64,
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  next: z.number().int().nonnegative().nullable(),
  entries: z.array(z.unknown()),
});

interface Answer {
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}

/** GET /agent: the bid the node's agent runs now. */
export async function fetchProfile(url: string, token: ApiToken): Promise<AgentProfile> {
  const a = await call(url, "GET", "/agent", token);
  if (a.status !== 200) throw refusal(url, a, token);
  return answer(url, "/agent", agentProfileSchema, a.body);
}

/** PUT /agent: a whole new bid; returns when it takes effect. */
export async function putProfile(url: string, token: ApiToken, profile: AgentProfile): Promise<string> {
  const a = await call(url, "PUT", "/agent", token, profile);
  if (a.status !== 200) throw refusal(url, a, token);
  return answer(url, "/agent", profileUpdatedSchema, a.body).takesEffect;
}

/** GET /amendments, every page: the id of the terms in effect, and the amendments of them the node knows. */
export async function fetchAmendments(url: string): Promise<{ terms: string; amendments: AmendmentView[] }> {
  const amendments: AmendmentView[] = [];
  let terms: string | null = null;
  // Pages by id, in id order: `after` stays put while the node's list changes between requests.
  let after: string | null = null;
  do {
    const a = await call(url, "GET", after === null ? "/amendments" : `/amendments?after=${after}`);
    if (a.status !== 200) throw refusal(url, a);
    const page = answer(url, "/amendments", amendmentsPageSchema, a.body);
    if (terms !== null && page.terms !== terms)
      throw new FailureError(`${url}/amendments: the terms in effect changed while reading; ask again`);
    terms = page.terms;
    amendments.push(...page.amendments);
    const next: string | null = page.next ?? null;
    if (next !== null && after !== null && next <= after)
      throw new FailureError(`${url}/amendments: next page after ${next} does not move past ${after}`);
    after = next;
  } while (after !== null);
  return { terms: terms as string, amendments };
}

/**
 * POST /amendments: the node signs and gossips the proposal; returns its id and terms. The id is
 * the proposed terms' id; an older node answers null for an amendment that passed at once (it
 * looked the id up among the pending ones), so it is computed here then, as the node computes it.
 */
export async function proposeAmendment(
  url: string,
  token: ApiToken,
  change: TermsChange,
): Promise<{ id: string; terms: Contract }> {
  const a = await call(url, "POST", "/amendments", token, change);
  if (a.status !== 202) throw refusal(url, a, token);
  const proposed = answer(url, "/amendments", proposedSchema, a.body);
  return { id: proposed.id ?? contractId(proposed.terms), terms: proposed.terms };
}

/** POST /amendments/<id>/approve: the node signs its approval; returns the amendment's state. */
export async function approveAmendment(
  url: string,
  token: ApiToken,
  id: string,
): Promise<AmendmentView | null> {
  const path = `/amendments/${id}/approve`;
  const a = await call(url, "POST", path, token);
  if (a.status !== 202) throw refusal(url, a, token);
  return answer(url, path, approvedSchema, a.body).amendment;
}

/** GET /ledger, every page: the market's id and its entries, each checked against the schema. */
export async function fetchLedger(url: string): Promise<{ contract: string; entries: LedgerEntry[] }> {
  const entries: LedgerEntry[] = [];
  let contract: string | null = null;
  for (let offset: number | null = 0; offset !== null; ) {
    const a = await call(url, "GET", `/ledger?offset=${offset}`);
    if (a.status === 404) throw new FailureError(`${url}: the node serves no ledger (GET /ledger: 404)`);
    if (a.status !== 200) throw refusal(url, a);
    const page = answer(url, "/ledger", ledgerPageSchema, a.body);
    if (contract !== null && page.contract !== contract)
      throw new FailureError(`${url}/ledger: pages of two markets (${contract} and ${page.contract})`);
    contract = page.contract;
    for (const [i, raw] of page.entries.entries()) {
      const parsed = parseWith(ledgerEntrySchema, raw, `${url}/ledger: entries[${offset + i}]`);
      if (!parsed.ok) throw new FailureError(parsed.error);
      // Kept as served (not as parsed): the file says exactly what the node said.
      entries.push(raw as LedgerEntry);
    }
    if (page.next !== null && page.next <= offset)
      throw new FailureError(`${url}/ledger: next page ${page.next} does not move past ${offset}`);
    offset = page.next;
  }
  return { contract: contract as string, entries };
}

async function call(
  url: string,
  method: "GET" | "PUT" | "POST",
  path: string,
  token?: ApiToken,
  body?: unknown,
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token.token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new FailureError(`${url}: no answer (${cause?.code ?? cause?.message ?? (err as Error).message})`);
  }
  const text = await res.text().catch(() => "");
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    if (res.ok) throw new FailureError(`${url}${path}: the answer is not JSON`);
  }
  return { path, status: res.status, body: parsed };
}

function answer<S extends z.ZodType>(url: string, path: string, schema: S, body: unknown): z.output<S> {
  const parsed = parseWith(schema, body, `${url}${path}: the answer`);
  if (!parsed.ok) throw new FailureError(parsed.error);
  return parsed.value;
}

/**
 * A non-success answer as one line, with the exit code the rule above gives it. A walras node
 * says why in `{error}`; an answer without one is from some other server (a wrong --node), which
 * is a failure to reach the node, not bad input.
 */
function refusal(url: string, a: Answer, token?: ApiToken): Error {
  const said = (a.body as { error?: unknown } | null)?.error;
  if (typeof said !== "string")
    return new FailureError(`${url}${a.path}: HTTP ${a.status} with no walras error: not a walras node?`);
  if (a.status === 401)
    return new InputError(`${url}: the node refused the token from ${token?.source ?? "nowhere"} (HTTP 401)`);
  const line = `${url}: ${printable(firstLine(said))} (HTTP ${a.status})`;
  return a.status === 400 || a.status === 404 ? new InputError(line) : new FailureError(line);
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : s.slice(0, i);
}
