import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCertificateViews } from "../../history/certificate-view.ts";
import type { RouteHandler } from "../respond.ts";
import { certificateList } from "./certificate-list.ts";
import { type DashboardFeedOptions, dashboardFeed } from "./dashboard-feed.ts";
import type { DashboardSource } from "./dashboard-frames.ts";
import { type AssetFile, assetRoutes } from "./static-assets.ts";

/** The browser code, as it is served: plain ES modules and CSS (no build step). */
const PUBLIC_DIR = fileURLToPath(new URL("./public/", import.meta.url));
const UPLOT_DIR = join(createRequire(import.meta.url).resolve("uplot/package.json"), "../dist");

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Everything from this node, nothing inline: the page works offline and nothing else can run in it. */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The dashboard's routes: the page at /, its assets under /assets/, the live feed at /events and
 * the certificates this node holds, each verified against the terms it names, at /certificates
 * (paged: certificate-list.ts).
 */
export function dashboardRoutes(
  source: DashboardSource,
  options: DashboardFeedOptions = {},
): Record<string, RouteHandler> {
  const view = createCertificateViews((certificate) => source.termsOf(certificate));
  return {
    ...assetRoutes(dashboardAssets()),
    "/events": dashboardFeed(source, view, options),
    "/certificates": certificateList(
      { history: source.history, contractId: () => source.status().contractId },
      view,
    ),
  };
}

function dashboardAssets(): AssetFile[] {
  const own = readdirSync(PUBLIC_DIR).flatMap((name): AssetFile[] => {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) return [];
    return name === "index.html"
      ? [
          {
            path: "/",
            file: join(PUBLIC_DIR, name),
            contentType,
            headers: { "content-security-policy": PAGE_POLICY },
          },
        ]
      : [{ path: `/assets/${name}`, file: join(PUBLIC_DIR, name), contentType }];
  });
  return [
    ...own,
    {
      path: "/assets/uPlot.min.js",
      file: join(UPLOT_DIR, "uPlot.iife.min.js"),
      contentType: CONTENT_TYPES[".js"] as string,
    },
    {
      path: "/assets/uPlot.min.css",
      file: join(UPLOT_DIR, "uPlot.min.css"),
      contentType: CONTENT_TYPES[".css"] as string,
    },
  ];
}
