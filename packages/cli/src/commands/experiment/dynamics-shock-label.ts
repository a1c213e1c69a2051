import type { ResolvedShockSchedule } from "@walras/protocol";

/** How a scenario's shock reads in a title: "fee shock, tau 0.5 -> 1.5 at slot 10". */
export function shockLabel(o: ResolvedShockSchedule): string {
  const end = o.until === null ? "" : `, back at slot ${o.until}`;
  switch (o.shock) {
    case "fee":
      return `fee shock, tau ${o.tau} -> ${o.shockTau} at slot ${o.at}${end}`;
    case "capacity":
      return `capacity shock, m ${o.capacity} -> ${o.shockCapacity} at slot ${o.at}${end}`;
    case "churn":
      return `churn, each member leaves with probability ${o.churn} per slot, Poisson arrivals`;
  }
}

/** The slots where the terms change, to draw as rules across the plots. */
export function shockMarkers(o: ResolvedShockSchedule): { x: number; label: string }[] {
  if (o.shock === "churn") return [];
  const what = o.shock === "fee" ? `tau = ${o.shockTau}` : `m = ${o.shockCapacity}`;
  const back = o.shock === "fee" ? `tau = ${o.tau}` : `m = ${o.capacity}`;
  return [{ x: o.at, label: what }, ...(o.until === null ? [] : [{ x: o.until, label: back }])];
}
