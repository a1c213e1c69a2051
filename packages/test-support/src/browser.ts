import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's chromium (`apt-get install -y chromium`): browsers cannot be downloaded here. */
export const CHROMIUM = process.env.WALRAS_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Without these, chromium phones home (updates, sync, field trials, QUIC probes) and floods a
 * closed network with connection attempts. Playwright adds a fresh --user-data-dir of its own.
 */
const QUIET = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM}: no chromium here; apt-get install -y chromium (or set WALRAS_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: QUIET });
}

/** What a page load cost and what went wrong in it, collected from the moment it opens. */
export interface PageWatch {
  /** Console errors and uncaught exceptions, as text. */
  readonly errors: string[];
  /** Bytes on the wire (headers and encoded bodies) of every request that finished. */
  transferred(): number;
}

export function watchPage(page: Page): PageWatch {
  const errors: string[] = [];
  let bytes = 0;
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
  page.on("requestfailed", (r) => {
    // A stream the page itself closes on unload is not a failure of the page.
    if (!r.url().endsWith("/events")) errors.push(`request ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on("requestfinished", async (r) => {
    const s = await r.sizes();
    bytes += s.responseHeadersSize + s.responseBodySize + s.requestHeadersSize;
  });
  return { errors, transferred: () => bytes };
}
