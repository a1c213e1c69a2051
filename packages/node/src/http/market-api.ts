import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AgentProfile,
  type AmendmentView,
  agentProfileSchema,
  amendTerms,
  type Contract,
  type ContractId,
  contractId,
  type Ledger,
  parseWith,
} from "@walras/protocol";
import { z } from "zod";
import { cutLedgerPage } from "../ledger/ledger-page-cut.ts";
import { AMENDMENT_ID, AMENDMENT_PAGE, cutAmendmentPage } from "./amendment-page.ts";
import { bearerMatches } from "./api-token.ts";
import { DEFAULT_HTTP_LIMITS } from "./http-limits.ts";
import { type HttpRefusals, NO_HTTP_REFUSALS } from "./http-refusals.ts";
import { NOT_A_QUERY_INTEGER, queryInteger } from "./query-integer.ts";
import { requestTarget } from "./request-target.ts";
import { sendJson } from "./respond.ts";

/** What the write API and the ledger need from the node. */
export interface MarketApiSource {
  readonly token: string;
  readonly contract: Contract;
  /** The agent's bid, or null on an observer (which has none to change). */
  profile(): AgentProfile | null;
  updateProfile(profile: AgentProfile): void;
  terms(): { readonly terms: Contract; readonly id: ContractId };
  amendmentProblem(terms: Contract): string | null;
  amend(terms: Contract): void;
  /** False when no amendment has this id. */
  approve(id: string): boolean;
  amendments(): readonly AmendmentView[];
  ledger(): Ledger;
}

/** One API route: method and exact path (or a pattern), whether it needs the token, and the answer. */
export interface ApiRoute {
  readonly method: "GET" | "PUT" | "POST";
  readonly path: string | RegExp;
  readonly auth: boolean;
  handle(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray | null): Promise<void> | void;
}

export interface MarketApiOptions {
  /** Largest request body: they are small JSON documents (default 64 KiB, http-limits.ts). */
  readonly maxBodyBytes?: number;
  /** Told of each body refused as too large. */
  readonly refusals?: HttpRefusals;
}

const LEDGER_PAGE = 100;

const amendmentRequestSchema = z.strictObject({
  capacities: z.record(z.string(), z.number()).optional(),
  perUnit: z.number().optional(),
  fixed: z.number().optional(),
});

/**
 * The node's market API (docs/protocol.md §12, README): GET /ledger (paged: 100 entries or
 * 1 MiB, whichever comes first) and /amendments (paged likewise) for
 * anyone who can reach the port; PUT /agent, POST /amendments and POST /amendments/<id>/approve
 * with the node's token. Bad input gets a one-line error and changes nothing.
 */
export function marketApiRoutes(source: MarketApiSource, options: MarketApiOptions = {}): ApiRoute[] {
  const readJson = jsonBodyReader(
    options.maxBodyBytes ?? DEFAULT_HTTP_LIMITS.maxBodyBytes,
    options.refusals ?? NO_HTTP_REFUSALS,
  );
  return [
    {
      method: "GET",
      path: "/ledger",
      auth: false,
      handle: (req, res) => {
        const url = requestTarget(req.url);
        if (url === null) return sendJson(res, 400, { error: "bad request target" });
        const offset = queryInteger(url.searchParams, "offset", 0);
        if (offset === null) return sendJson(res, 400, { error: NOT_A_QUERY_INTEGER("offset") });
        const asked = queryInteger(url.searchParams, "limit", LEDGER_PAGE);
        if (asked === null) return sendJson(res, 400, { error: NOT_A_QUERY_INTEGER("limit") });
        const limit = Math.min(LEDGER_PAGE, Math.max(1, asked));
        const ledger = source.ledger();
        // Cut at LEDGER_PAGE_BYTES too: `next` is where the cut fell, so a client that follows it
        // gets every entry once, whatever the page held.
        const entries = cutLedgerPage(ledger.entries, offset, limit);
        const next = offset + entries.length < ledger.entries.length ? offset + entries.length : null;
        sendJson(res, 200, {
          contract: ledger.contract,
          total: ledger.entries.length,
          offset,
          next,
          entries,
        });
      },
    },
    {
      method: "GET",
      path: "/amendments",
      auth: false,
      handle: (req, res) => {
        // Paged as /ledger is: the node keeps one amendment per proposer (protocol §12), still up
        // to one per member, each with whole terms.
        const url = requestTarget(req.url);
        if (url === null) return sendJson(res, 400, { error: "bad request target" });
        // By id, not offset: the list changes between requests (§12).
        const after = url.searchParams.get("after");
        if (after !== null && !AMENDMENT_ID.test(after))
          return sendJson(res, 400, { error: "after: must be an amendment id (64 lowercase hex digits)" });
        const asked = queryInteger(url.searchParams, "limit", AMENDMENT_PAGE);
        if (asked === null) return sendJson(res, 400, { error: NOT_A_QUERY_INTEGER("limit") });
        const all = source.amendments();
        const amendments = cutAmendmentPage(all, after, Math.min(AMENDMENT_PAGE, Math.max(1, asked)));
        const last = amendments.at(-1)?.id ?? null;
        const next = last !== null && all.some((a) => a.id > last) ? last : null;
        sendJson(res, 200, { terms: source.terms().id, total: all.length, after, next, amendments });
      },
    },
    {
      method: "GET",
      path: "/agent",
      auth: true,
      handle: (_req, res) => {
        const profile = source.profile();
        if (!profile) return sendJson(res, 409, { error: "this node is an observer: it has no agent" });
        sendJson(res, 200, profile);
      },
    },
    {
      method: "PUT",
      path: "/agent",
      auth: true,
      handle: async (req, res) => {
        if (!source.profile())
          return sendJson(res, 409, { error: "this node is an observer: it has no agent" });
        const body = await readJson(req, res);
        if (body === undefined) return;
        const parsed = parseWith(agentProfileSchema, body, "profile");
        if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
        const R = source.contract.resources.length;
        if (parsed.value.footprint.length !== R)
          return sendJson(res, 400, {
            error: `profile: footprint: ${parsed.value.footprint.length} entries for the contract's ${R} resources`,
          });
        source.updateProfile(parsed.value);
        sendJson(res, 200, {
          ok: true,
          takesEffect: source.contract.period
            ? "at the next period's slot"
            : "at the next slot, which it opens",
        });
      },
    },
    {
      method: "POST",
      path: "/amendments",
      auth: true,
      handle: async (req, res) => {
        const body = await readJson(req, res);
        if (body === undefined) return;
        const parsed = parseWith(amendmentRequestSchema, body, "amendment");
        if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
        const { terms: current, id } = source.terms();
        let terms: Contract;
        try {
          terms = amendTerms(current, id, parsed.value);
        } catch (err) {
          return sendJson(res, 400, { error: (err as Error).message });
        }
        const problem = source.amendmentProblem(terms);
        if (problem) return sendJson(res, 409, { error: problem });
        source.amend(terms);
        // An amendment's id is its terms' id. Not looked up among the pending ones: with a quorum of
        // one (a one-member market) it has passed already and is pending no more.
        sendJson(res, 202, { id: contractId(terms), terms });
      },
    },
    {
      method: "POST",
      path: /^\/amendments\/([0-9a-f]{64})\/approve$/,
      auth: true,
      handle: (_req, res, match) => {
        const id = match?.[1] as string;
        if (!source.amendments().some((a) => a.id === id))
          return sendJson(res, 404, { error: `no amendment ${id} of the terms in effect is known here` });
        if (!source.approve(id))
          return sendJson(res, 409, { error: "only a member of the current epoch may approve" });
        sendJson(res, 202, { ok: true, amendment: source.amendments().find((a) => a.id === id) ?? null });
      },
    },
  ];
}

/** Finds the route for a request: the route, or the methods the path allows (405), or nothing (404). */
export function matchRoute(
  routes: readonly ApiRoute[],
  method: string,
  path: string,
): { route: ApiRoute; match: RegExpExecArray | null } | { allowed: string[] } | null {
  const onPath = routes
    .map((route) => ({ route, match: typeof route.path === "string" ? null : route.path.exec(path) }))
    .filter(({ route, match }) => (typeof route.path === "string" ? route.path === path : match !== null));
  if (onPath.length === 0) return null;
  const m = method === "HEAD" ? "GET" : method;
  return (
    onPath.find(({ route }) => route.method === m) ?? { allowed: onPath.map(({ route }) => route.method) }
  );
}

/** Answers 401 unless the request carries the node's token. */
export function authorized(req: IncomingMessage, res: ServerResponse, token: string): boolean {
  if (bearerMatches(req.headers.authorization, token)) return true;
  res.setHeader("www-authenticate", 'Bearer realm="walras"');
  sendJson(res, 401, {
    error: "this endpoint needs the node's token (Authorization: Bearer <api.token in its data dir>)",
  });
  return false;
}

/**
 * Reads a JSON body of at most `maxBytes`. One that announces more (Content-Length) is refused
 * before a byte of it is read; one sent without a length (chunked) is refused once it passes the
 * limit. Either way 413; the connection closes once that is sent, as after any request with a
 * body (status-server.ts).
 */
function jsonBodyReader(maxBytes: number, refusals: HttpRefusals) {
  const tooLarge = (res: ServerResponse): undefined => {
    refusals.refused("body_too_large");
    sendJson(res, 413, { error: `request body over ${maxBytes} bytes` });
    return undefined;
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    if (Number(req.headers["content-length"] ?? 0) > maxBytes) return tooLarge(res);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) return tooLarge(res);
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      sendJson(res, 400, { error: `request body is not JSON: ${(err as Error).message}` });
      return undefined;
    }
  };
}
