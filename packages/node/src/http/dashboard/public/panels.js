import { resourceColor } from "./charts.js";
import { el, show } from "./dom.js";
import { formatAmount, formatPrice, formatResidual, shortDigest, shortId } from "./format.js";
import { settlingCertificate } from "./market-state.js";

/** A market with thousands of members would make a table nobody reads and a page that crawls. */
const MAX_MEMBER_ROWS = 100;
const MAX_CERTIFICATES = 20;

const $ = (id) => document.getElementById(id);

export function renderBar(state) {
  const { contract, status } = state;
  document.title = `${contract.name} · walras`;
  $("contract-name").textContent = contract.name;
  const id = $("contract-id");
  id.textContent = `contract ${status.contractId}`;
  id.title = status.contractId;
  const item = (label, value, attrs = {}) => el("div", attrs, el("dt", {}, label), el("dd", {}, value));
  show(
    $("position"),
    item("status", el("span", { class: "pill", "data-status": status.status, id: "status" }, status.status)),
    // A slot, when the protocol has them, is shown beside the epoch.
    "slot" in status ? item("slot", status.slot ?? "—") : null,
    item("epoch", status.epoch ?? "—", { id: "epoch" }),
    item("round", status.round ?? "—", { id: "round" }),
  );
  $("node-id").textContent = `node ${status.peerId} (${status.role}${status.member ? ", member" : ""})`;
}

function tile(label, value, sub, swatch = null) {
  const name = el("div", { class: "label" }, label);
  if (swatch) {
    const mark = el("span", { class: "swatch" });
    mark.style.background = swatch;
    name.prepend(mark);
  }
  return el(
    "div",
    { class: "tile" },
    name,
    el("div", { class: "value" }, value),
    el("div", { class: "sub" }, sub),
  );
}

export function renderTiles(state) {
  const { contract, status, members, peers } = state;
  const votes = status.agreement;
  show(
    $("tiles"),
    contract.resources.map((r, i) =>
      tile(
        `price · ${r.id}`,
        el("span", { "data-price": r.id }, formatPrice(status.prices[r.id])),
        `capacity ${formatAmount(r.capacity)}`,
        resourceColor(i),
      ),
    ),
    tile(
      "residual",
      el("span", { id: "residual" }, formatResidual(status.residual)),
      `tolerance ${formatResidual(contract.tolerance.residual)}`,
    ),
    tile(
      "agreement",
      votes ? `${votes.matching}/${votes.received}` : "—",
      "demands of this round answering this node's prices",
    ),
    tile(
      "members",
      el("span", { id: "member-count" }, members.length),
      status.pendingJoins.length > 0
        ? `${status.pendingJoins.length} joining`
        : `epoch ${status.epoch ?? "—"}`,
    ),
    tile("peers", el("span", { id: "peer-count" }, peers.length), `gossip mesh ${status.topicPeers}`),
  );
}

/** Who is in the market now, who just left, and what each owes at the certified prices. */
export function renderMembers(state) {
  const { contract, status, members, peers } = state;
  const cert = settlingCertificate(state);
  const current = new Set(members);
  const connected = new Set(peers);
  const charged = new Map((cert?.charges.members ?? []).map((m) => [m.agent, m]));
  // Members of the epoch before this one stay listed (as left) until the next epoch change.
  const previous = state.epochs.filter((e) => e.epoch < (status.epoch ?? 0)).at(-1)?.members ?? [];
  const ids = [...new Set([...members, ...status.pendingJoins, ...charged.keys(), ...previous])].sort(
    (a, b) => (a === status.peerId ? -1 : b === status.peerId ? 1 : a < b ? -1 : a > b ? 1 : 0),
  );
  const stateOf = (id) => {
    if (current.has(id))
      return id === status.peerId ? "self" : connected.has(id) ? "connected" : "unreachable";
    return status.pendingJoins.includes(id) ? "joining" : "left";
  };
  const resources = contract.resources;
  const head = [
    el(
      "tr",
      {},
      el("th", { rowspan: 2 }, "member"),
      el("th", { rowspan: 2 }, "state"),
      el("th", { rowspan: 2, class: "n" }, "allocation x"),
      el("th", { colspan: resources.length, class: "group" }, "pays for resources p·a·x"),
      el("th", { colspan: 2, class: "group" }, "fees"),
      el("th", { rowspan: 2, class: "n" }, "total"),
    ),
    el(
      "tr",
      {},
      resources.map((r) => el("th", { class: "n" }, r.id)),
      el("th", { class: "n" }, "τ·x"),
      el("th", { class: "n" }, "fixed"),
    ),
  ];
  const money = (c, pick) => (c ? formatAmount(pick(c)) : "—");
  const rows = ids.slice(0, MAX_MEMBER_ROWS).map((id) => {
    const c = charged.get(id);
    const s = stateOf(id);
    return el(
      "tr",
      { "data-member": id, "data-state": s },
      el(
        "td",
        { class: "mono", title: id },
        shortId(id),
        id === status.peerId ? el("span", { class: "you" }, "this node") : null,
      ),
      el("td", {}, el("span", { class: "state", "data-state": s }, s)),
      el(
        "td",
        { class: "n" },
        money(c, (m) => m.x),
      ),
      resources.map((_, r) =>
        el(
          "td",
          { class: "n" },
          money(c, (m) => m.resourcePayments[r]),
        ),
      ),
      el(
        "td",
        { class: "n" },
        money(c, (m) => m.perUnitFee),
      ),
      el(
        "td",
        { class: "n" },
        money(c, (m) => m.fixedFee),
      ),
      el(
        "td",
        { class: "n" },
        money(c, (m) => m.total),
      ),
    );
  });
  const totals = cert
    ? el(
        "tr",
        { class: "total" },
        el("td", {}, "total"),
        el("td", {}),
        el("td", { class: "n" }, formatAmount(cert.charges.members.reduce((s, m) => s + m.x, 0))),
        resources.map((_, r) =>
          el("td", { class: "n" }, formatAmount(cert.charges.totals.resourcePayments[r])),
        ),
        el("td", { class: "n" }, formatAmount(cert.charges.totals.perUnitFees)),
        el("td", { class: "n" }, formatAmount(cert.charges.totals.fixedFees)),
        el("td", { class: "n" }, formatAmount(cert.charges.totals.total)),
      )
    : null;
  show($("members"), el("thead", {}, head), el("tbody", {}, rows, totals));
  const more = ids.length > MAX_MEMBER_ROWS ? ` · first ${MAX_MEMBER_ROWS} of ${ids.length}` : "";
  $("members-note").textContent = cert
    ? `charges at the prices certified in epoch ${cert.epoch}, round ${cert.round}${
        cert.epoch === status.epoch ? "" : " (this epoch is not certified yet)"
      }${more}`
    : `charges appear once an epoch is certified${more}`;
}

export function renderCertificates(state) {
  const { contract } = state;
  if (state.certificates.length === 0) {
    show(
      $("certificates"),
      el("li", { class: "empty" }, "none yet: members sign one when the market clears"),
    );
    return;
  }
  show(
    $("certificates"),
    state.certificates.slice(0, MAX_CERTIFICATES).map((c) => {
      const v = c.verification;
      const prices = contract.resources.map((r, i) => `${r.id} ${formatPrice(c.prices[i])}`).join(" · ");
      return el(
        "li",
        { "data-epoch": c.epoch, "data-verified": String(v.ok) },
        el("span", { class: "badge", "data-ok": String(v.ok) }, v.ok ? "✓ verifies" : "✗ does not verify"),
        el("strong", {}, `epoch ${c.epoch} · round ${c.round}`),
        el(
          "span",
          {},
          `${c.signers}/${c.members} signatures${v.ok ? ` (quorum ${v.quorum})` : ""}${c.approximate ? " · approximate" : ""}`,
        ),
        el("span", {}, `prices ${prices}`),
        el("span", {}, `residual ${formatResidual(c.residual)}`),
        el("span", {}, `charges ${formatAmount(c.charges.totals.total)}`),
        el("code", { class: "muted", title: c.digest }, shortDigest(c.digest)),
        v.ok ? null : el("div", { class: "error" }, v.error),
      );
    }),
  );
}

function counts(title, values, id) {
  const entries = Object.entries(values).sort((a, b) => b[1] - a[1]);
  return el(
    "div",
    { class: "counts", id },
    el("h3", {}, title),
    entries.length === 0
      ? el("p", { class: "empty" }, "none")
      : el(
          "dl",
          { class: "kv" },
          entries.map(([k, n]) => [el("dt", {}, k), el("dd", { "data-key": k }, n)]),
        ),
  );
}

export function renderNetwork(state) {
  const { status, peers, traffic, members } = state;
  const current = new Set(members);
  show(
    $("network"),
    el(
      "dl",
      { class: "kv" },
      el("dt", {}, "connected peers"),
      el("dd", { id: "peers" }, peers.length),
      el("dt", {}, "gossip mesh"),
      el("dd", {}, status.topicPeers),
      el("dt", {}, "listening on"),
      el("dd", { class: "mono" }, status.listen[0] ?? "—"),
    ),
    el(
      "ul",
      { class: "peers" },
      peers.map((p) => el("li", { class: "mono", title: p }, shortId(p), current.has(p) ? " · member" : "")),
    ),
    counts("messages accepted, by kind", traffic.accepted, "accepted"),
    counts("rejected, by reason", traffic.rejected, "rejected"),
    counts("ignored (late, repeated, own), by reason", traffic.ignored, "ignored"),
  );
}
