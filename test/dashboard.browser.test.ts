import type { NodeStatus } from "@walras/node";
import {
  type Cluster,
  dashboardMarket,
  launchChromium,
  startCluster,
  waitFor,
  waitForCertificate,
  watchPage,
} from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against three
 * real nodes over libp2p: it loads clean, shows what /status says, grows its chart as rounds
 * close, and shows a node leaving.
 */

/** What the first load may weigh on the wire (page, scripts, styles, uPlot; gzipped). */
const WEIGHT_BUDGET_BYTES = 64 * 1024;

const { contract, profiles } = dashboardMarket(3);
let cluster: Cluster | null = null;
let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** The digits the page shows are the digits of the node's number: same significant digits, same value. */
function sameToShownDigits(shown: string, actual: number): boolean {
  const mantissa =
    shown
      .split("e")[0]
      ?.replace(/^[-0.]+/, "")
      .replace(".", "") ?? "";
  if (mantissa === "") return actual === 0 && Number(shown) === 0;
  return Number(actual.toPrecision(mantissa.length)) === Number(shown);
}

describe("the dashboard in chromium, on a live 3-node network", () => {
  it("loads clean, agrees with /status, charts closing rounds and shows a node leaving", async () => {
    // Two of three members: the first epoch waits for the third, so the chart starts empty.
    cluster = await startCluster(contract, profiles.slice(0, 2), { http: { port: 0 } });
    const [first] = cluster.nodes;
    if (!first?.httpUrl) throw new Error("the first node serves no HTTP");
    let closed = 0;
    first.onAction((a) => {
      if (a.type === "round-closed") closed++;
    });

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchPage(page);
    await page.goto(first.httpUrl);
    // evaluateAll reads what is there now (locator reads would wait for the element to appear).
    const text = (selector: string) => page.locator(selector).evaluateAll((els) => els[0]?.textContent ?? "");
    const attribute = (selector: string, name: string) =>
      page.locator(selector).evaluateAll((els, n) => els[0]?.getAttribute(n) ?? null, name);
    const points = async () => Number(await attribute("#price-chart", "data-points"));

    await waitFor(async () => (await attribute("#link", "data-state")) === "live", { what: "the live feed" });
    await waitFor(async () => (await text("#contract-name")) === contract.name, {
      what: "the contract name",
    });
    expect(await text("#contract-id")).toContain(first.contractId);
    expect(await points()).toBe(0);
    expect(watch.transferred()).toBeGreaterThan(0);
    expect(watch.transferred()).toBeLessThan(WEIGHT_BUDGET_BYTES);

    // The third member arrives: rounds close, and the chart follows without a reload.
    const third = await cluster.add(profiles[2] as (typeof profiles)[number]);
    await waitFor(async () => (await points()) > 0, { what: "the chart's first points" });
    await waitForCertificate(cluster.nodes);
    await waitFor(async () => (await points()) === closed && (await text("#status")) === "converged", {
      what: `the chart to hold all ${closed} closed rounds and the page to show convergence`,
    });
    expect(await page.locator("#residual-chart").getAttribute("data-points")).toBe(String(closed));
    // The founding epoch's certificate, and the promotion slot's right after it (protocol §9.1).
    await waitFor(
      async () => {
        const verified = await page.locator('#certificates li[data-verified="true"]').count();
        return verified >= 1 && verified === (await page.locator("#certificates li").count());
      },
      { what: "every certificate shown, verified" },
    );

    // Every price shown equals the node's /status to the digits shown.
    const status = (await (await fetch(`${first.httpUrl}/status`)).json()) as NodeStatus;
    expect(status.status).toBe("converged");
    for (const r of contract.resources) {
      const shown = await text(`[data-price="${r.id}"]`);
      expect(sameToShownDigits(shown, status.prices[r.id] as number), `${r.id}: ${shown}`).toBe(true);
    }
    expect(await text("#epoch")).toContain(String(status.epoch));
    expect(await page.locator("#members tr[data-member]").count()).toBe(3);

    // At phone width the page fits the screen (wide tables scroll inside their cards).
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    const phoneWatch = watchPage(phone);
    await phone.goto(first.httpUrl);
    await waitFor(async () => (await phone.locator('#certificates li[data-verified="true"]').count()) >= 1, {
      what: "the phone page's certificates",
    });
    expect(await phone.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await phone.close();
    expect(phoneWatch.errors).toEqual([]);

    // A node leaves: the page loses a peer and marks the member gone once the others move on.
    const closedBefore = closed;
    await third.stop();
    await waitFor(async () => (await text("#peer-count")) === "1", { what: "the peer count to drop to 1" });
    await waitFor(
      async () => (await attribute(`#members tr[data-member="${third.peerId}"]`, "data-state")) === "left",
      { what: "the stopped node's row to show it left" },
    );
    await waitFor(async () => (await text("#member-count")) === "2", { what: "two members" });
    await waitFor(async () => closed > closedBefore && (await points()) === closed, {
      what: "the new epoch's rounds on the chart",
    });

    expect(watch.errors).toEqual([]);
  });
});
