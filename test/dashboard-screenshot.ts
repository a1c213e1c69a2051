/**
 * `pnpm dashboard:screenshot`: docs/dashboard.png, the dashboard of a live 4-node network after
 * one member left (two epochs on the price path, the departed member listed as left), and what
 * the page's first load weighs on the wire.
 */
import { fileURLToPath } from "node:url";
import {
  dashboardMarket,
  launchChromium,
  startCluster,
  waitFor,
  waitForCertificate,
  watchPage,
} from "@walras/test-support";

const OUT = fileURLToPath(new URL("../docs/dashboard.png", import.meta.url));
const { contract, profiles } = dashboardMarket(4);
const cluster = await startCluster(contract, profiles, { http: { port: 0 } });
const browser = await launchChromium();
try {
  const [first] = cluster.nodes;
  if (!first?.httpUrl) throw new Error("the first node serves no HTTP");
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const watch = watchPage(page);
  await page.goto(first.httpUrl);
  const count = (selector: string) => page.locator(selector).count();
  await waitFor(async () => (await count('#link[data-state="live"]')) === 1, { what: "the live feed" });
  const weight = watch.transferred();
  await waitForCertificate(cluster.nodes);

  const leaving = cluster.nodes.at(-1);
  await leaving?.stop();
  const staying = cluster.nodes.slice(0, -1);
  await waitForCertificate(staying);
  await waitFor(async () => (await count("#certificates li[data-verified]")) === 2, {
    what: "both certificates on the page",
  });
  await waitFor(async () => (await count('#members tr[data-state="left"]')) === 1, { what: "the left row" });
  // The feed pushes the status once a second: let the last frame land before the picture.
  await waitFor(async () => (await page.locator("#peer-count").textContent()) === String(staying.length - 1));

  await page.screenshot({ path: OUT, fullPage: true });
  if (watch.errors.length > 0) throw new Error(`the page reported errors:\n${watch.errors.join("\n")}`);
  process.stdout.write(
    `wrote ${OUT}\nfirst load: ${weight} bytes on the wire (${(weight / 1024).toFixed(1)} KiB, gzip)\n`,
  );
} finally {
  await browser.close();
  await cluster.stop();
}
