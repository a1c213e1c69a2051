import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import type { RouteHandler } from "../respond.ts";

/** A file the node serves as it is: read and compressed once, on the first request for it. */
export interface AssetFile {
  /** The URL path, e.g. "/assets/dashboard.css". */
  readonly path: string;
  readonly file: string;
  readonly contentType: string;
  /** Extra response headers (a content security policy on the page). */
  readonly headers?: Readonly<Record<string, string>>;
}

interface LoadedAsset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/**
 * Routes for a fixed set of files: no path from the request ever reaches the file system, so
 * there is nothing to traverse. Bodies are gzipped when the client accepts it and revalidated by
 * ETag (the files change only with the node's version).
 */
export function assetRoutes(files: readonly AssetFile[]): Record<string, RouteHandler> {
  return Object.fromEntries(files.map((f) => [f.path, assetRoute(f)]));
}

function assetRoute(file: AssetFile): RouteHandler {
  let loaded: LoadedAsset | null = null;
  return (req, res) => {
    loaded ??= load(file.file);
    serve(file, loaded, req, res);
  };
}

function load(file: string): LoadedAsset {
  const body = readFileSync(file);
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
  };
}

function serve(file: AssetFile, asset: LoadedAsset, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = {
    "content-type": file.contentType,
    "cache-control": "no-cache",
    etag: asset.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
    ...file.headers,
  };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
  const body = gzip ? asset.gzip : asset.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}
