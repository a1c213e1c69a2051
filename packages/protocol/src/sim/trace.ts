import { createHash, type Hash } from "node:crypto";
import type { MachineAction } from "../machine/machine-io.ts";
import { messageDigest } from "../wire/message-codec.ts";
import type { WireMessage } from "../wire/messages.ts";
import type { NetworkEvent, SimNode } from "./simulated-network.ts";

/**
 * A run's trace: one compact line per event (ticks that did nothing are left out), each followed
 * by the actions it caused. Every line feeds a running SHA-256, so two runs of one seed can be
 * compared by a hash; the last lines are kept for a failure's context, all of them on request.
 *
 *     1203.4 n2<n0 demand n0 e0 r3 accept
 *            n2 publish price e0 r4 [0.3121]
 *            n2 epoch-started e1 {n0,n1,n2} base e0r5
 */
export interface Trace {
  record(event: NetworkEvent): void;
  /** Lines not tied to an event (the run's header, its verdict). */
  note(line: string): void;
  /** Hex SHA-256 of every line so far. */
  hash(): string;
  /** The last lines, oldest first. */
  recent(): string[];
  /** Every line, when the trace keeps them all; otherwise null. */
  lines(): readonly string[] | null;
}

export interface TraceOptions {
  readonly nameOf: (agent: string) => string;
  /** Keep every line (for printing), not just the last few. */
  readonly keepAll?: boolean;
  readonly recent?: number;
}

export function createTrace(options: TraceOptions): Trace {
  const { nameOf } = options;
  const all: string[] | null = options.keepAll ? [] : null;
  const ringSize = options.recent ?? 40;
  const ring: string[] = [];
  let ringStart = 0;
  const hash: Hash = createHash("sha256");
  let digest: string | null = null;

  const push = (line: string) => {
    hash.update(line);
    hash.update("\n");
    digest = null;
    all?.push(line);
    if (ring.length < ringSize) ring.push(line);
    else {
      ring[ringStart] = line;
      ringStart = (ringStart + 1) % ringSize;
    }
  };
  const msg = (m: WireMessage) => describeMessage(m, nameOf);
  /** `relayed`: what the actions before this one relayed (their digests), in the same event. */
  const action = (sim: SimNode, at: number, a: MachineAction, relayed: Set<string>): string | null => {
    const pad = "         ";
    const node = sim.name;
    switch (a.type) {
      case "publish":
        return `${pad}${node} publish ${msg(a.message)}`;
      case "relay": {
        // The network sends no relay of what the node's gossipsub has seen (simulated-network.ts),
        // nor of what it relayed earlier in the same event. The trace is recorded just before the
        // network acts, at the same time, so the cache answers as it will then.
        const digest = messageDigest(a.message);
        const suppressed = sim.seen.has(digest, at) || relayed.has(digest);
        relayed.add(digest);
        return `${pad}${node} relay ${msg(a.message)}${suppressed ? " suppressed (seen cache)" : ""}`;
      }
      case "sync":
        return a.want.type === "decision"
          ? `${pad}${node} sync decisions from e${a.want.epoch ?? "(latest)"}`
          : `${pad}${node} sync e${a.want.epoch}${a.want.round === undefined ? "" : ` r${a.want.round}`} ${a.want.kinds.join("+")}`;
      case "epoch-started":
        return `${pad}${node} epoch-started e${a.epoch} {${a.members.map(nameOf).join(",")}}${a.base ? ` base e${a.base.epoch}r${a.base.round}` : ""}${a.member ? "" : " (not a member)"}`;
      case "certificate": {
        const c = a.certificate.commit;
        return `${pad}${node} certificate e${c.epoch} r${c.round} ${a.certificate.signatures.length}/${c.members.length} signed p=[${c.prices.map(short).join(",")}]${c.approximate ? " approximate" : ""}`;
      }
      case "dropped":
        return `${pad}${node} dropped ${a.reason} ${msg(a.message)}`;
      case "equivocation":
        return `${pad}${node} equivocation by ${nameOf(a.evidence.agent)} in ${a.evidence.slot.replace(a.evidence.agent, nameOf(a.evidence.agent))}`;
      case "round-closed":
        return `${pad}${node} round-closed e${a.epoch} r${a.round} residual ${short(a.residual)}${a.converged ? " converged" : ""}`;
      case "log":
        return a.level === "warn" ? `${pad}${node} warn ${a.msg}` : null;
      case "left":
        return `${pad}${node} left`;
      case "terms-changed":
        return `${pad}${node} terms-changed e${a.epoch}`;
    }
  };
  const actions = (node: SimNode, at: number, list: readonly MachineAction[]) => {
    const relayed = new Set<string>();
    for (const a of list) {
      const line = action(node, at, a, relayed);
      if (line) push(line);
    }
  };

  return {
    record(e) {
      const t = e.at.toFixed(1).padStart(8);
      switch (e.type) {
        case "start":
          push(
            `${t} start ${e.node.name} (${e.node.role}${e.node.id ? "" : ", observer"})${e.linkAt === undefined ? "" : `, no peers until ${e.linkAt.toFixed(1)}`}`,
          );
          return;
        case "link-up":
          push(`${t} link-up ${e.node.name}`);
          return;
        case "deliver": {
          const verdict =
            e.verdict.verdict === "accept" ? "accept" : `${e.verdict.verdict}:${e.verdict.reason}`;
          push(
            `${t} ${e.node.name}<${e.from}${e.via === "sync" ? " (sync)" : ""}${e.forged ? " FORGED" : ""} ${msg(e.message)} ${verdict}`,
          );
          actions(e.node, e.at, e.actions);
          return;
        }
        case "tick":
          if (!e.actions.some((a) => a.type !== "log")) return;
          push(`${t} ${e.node.name} tick`);
          actions(e.node, e.at, e.actions);
          return;
        case "crash":
          push(`${t} FAULT crash ${e.node.name}`);
          return;
        case "restart":
          push(`${t} FAULT restart ${e.node.name} (replayed ${e.node.store.length} stored messages)`);
          actions(
            e.node,
            e.at,
            e.replayed.filter((a) => a.type === "epoch-started" || a.type === "certificate"),
          );
          actions(e.node, e.at, e.actions);
          return;
        case "leave":
          push(`${t} FAULT leave ${e.node.name}`);
          actions(e.node, e.at, e.actions);
          return;
        case "partition":
          push(`${t} FAULT partition ${e.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`);
          return;
        case "heal":
          push(`${t} FAULT heal`);
          return;
        case "slow":
          push(`${t} FAULT slow ${e.node.name} +${e.ms} ms`);
          return;
        case "deaf":
          push(`${t} FAULT ${e.deaf ? "deaf" : "hears"} ${e.node.name}`);
          return;
        case "byzantine":
          push(`${t} BYZANTINE ${e.act} ${e.node.name} -> {${e.to.join(",")}} ${msg(e.message)}`);
          return;
      }
    },
    note: push,
    hash() {
      if (digest === null) {
        digest = hash.copy().digest("hex");
      }
      return digest;
    },
    recent: () => [...ring.slice(ringStart), ...ring.slice(0, ringStart)],
    lines: () => all,
  };
}

/** `kind agent e<epoch> r<round>` and what matters of the kind, in a few characters. */
export function describeMessage(m: WireMessage, nameOf: (agent: string) => string): string {
  const who = nameOf(m.agent);
  switch (m.kind) {
    case "demand":
      return `demand ${who} e${m.epoch} r${m.round} x=${short(m.x)}`;
    case "commit":
      return `commit ${who} e${m.epoch} r${m.round} {${m.members.map(nameOf).join(",")}}`;
    case "propose":
      return `propose ${who} e${m.epoch} v${m.view} {${m.plan.members.map(nameOf).join(",")}}${m.plan.base ? ` base e${m.plan.base.epoch}r${m.plan.base.round}` : ""} [${m.plan.cause.join(",")}]`;
    case "accept":
      return `accept ${who} e${m.epoch} v${m.view}`;
    case "view":
      return `view ${who} e${m.epoch} v${m.view}${m.accepted ? ` (accepted v${m.accepted.view})` : ""}`;
    case "rebid":
      return `rebid ${who} e${m.epoch}`;
    case "amend":
      return `amend ${who} e${m.epoch}`;
    case "approve":
      return `approve ${who} ${m.amendment.slice(0, 8)}`;
    case "join":
      return `join ${who} s${m.seq}`;
    case "alive":
      return `alive ${who} e${m.epoch}`;
    case "leave":
      return `leave ${who} e${m.epoch}`;
  }
}

function short(v: number): string {
  return Number(v.toPrecision(5)).toString();
}
