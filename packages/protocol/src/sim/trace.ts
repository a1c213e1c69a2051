import { createHash, type Hash } from "node:crypto";
import type { MachineAction } from "../machine/machine-io.ts";
import type { WireMessage } from "../wire/messages.ts";
import type { NetworkEvent, SimNode, Unsent } from "./simulated-network.ts";

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
  /** `unsent`: `a` is a relay the network did not send (its seen cache held the message). */
  const action = (sim: SimNode, a: MachineAction, unsent: boolean): string | null => {
    const pad = "         ";
    const node = sim.name;
    switch (a.type) {
      case "publish":
        return `${pad}${node} publish ${msg(a.message)}`;
      case "relay":
        return `${pad}${node} relay ${msg(a.message)}${unsent ? " suppressed (seen cache)" : ""}`;
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
      case "convicted":
        // The `equivocation` line that comes with it names the agent.
        return null;
    }
  };
  /** `unsent`: indices in `list` of the relays the network did not send (the event's own list only). */
  const actions = (node: SimNode, list: readonly MachineAction[], unsent?: Unsent) => {
    for (const [i, a] of list.entries()) {
      const line = action(node, a, unsent?.has(i) === true);
      if (line) push(line);
    }
  };

  return {
    record(e) {
      const t = e.at.toFixed(1).padStart(8);
      switch (e.type) {
        case "start":
          push(
            `${t} start ${e.node.name} (${e.node.role}${e.node.id ? "" : ", observer"}${e.node.bootstrap.length > 0 ? `, bootstrap ${e.node.bootstrap.join(",")}` : ""})${e.linkAt === undefined ? "" : `, no peers until ${e.linkAt.toFixed(1)}`}`,
          );
          return;
        case "link-up":
          push(`${t} link-up ${e.node.name}`);
          return;
        case "bootstrap-peer":
          push(`${t} ${e.node.name} reaches bootstrap ${e.peer.name}`);
          return;
        case "deliver": {
          const verdict =
            e.verdict.verdict === "accept" ? "accept" : `${e.verdict.verdict}:${e.verdict.reason}`;
          push(
            `${t} ${e.node.name}<${e.from}${e.via === "sync" ? " (sync)" : ""}${e.forged ? " FORGED" : ""} ${msg(e.message)} ${verdict}`,
          );
          actions(e.node, e.actions, e.unsent);
          return;
        }
        case "tick":
          if (!e.actions.some((a) => a.type !== "log")) return;
          push(`${t} ${e.node.name} tick`);
          actions(e.node, e.actions, e.unsent);
          return;
        case "crash":
          push(`${t} FAULT crash ${e.node.name}`);
          return;
        case "restart":
          push(`${t} FAULT restart ${e.node.name} (replayed ${e.node.store.length} stored messages)`);
          actions(
            e.node,
            e.replayed.filter((a) => a.type === "epoch-started" || a.type === "certificate"),
          );
          actions(e.node, e.actions, e.unsent);
          return;
        case "leave":
          push(`${t} FAULT leave ${e.node.name}`);
          actions(e.node, e.actions, e.unsent);
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
      return `leave ${who} e${m.epoch}${m.seq !== undefined ? ` s${m.seq}` : ""}`;
  }
}

function short(v: number): string {
  return Number(v.toPrecision(5)).toString();
}
