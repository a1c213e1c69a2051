import { createPriceChart, createResidualChart } from "./charts.js";
import { applyEvent, createMarketState } from "./market-state.js";
import { renderBar, renderCertificates, renderMembers, renderNetwork, renderTiles } from "./panels.js";

/**
 * The dashboard: one EventSource on the node's /events (a snapshot, then what changes), drawn at
 * most once per animation frame however fast rounds close.
 */
const state = createMarketState();
let charts = null;
let scheduled = false;

function render() {
  scheduled = false;
  if (!state.contract || !state.status) return;
  charts ??= {
    price: createPriceChart(document.getElementById("price-chart"), state.contract.resources),
    residual: createResidualChart(
      document.getElementById("residual-chart"),
      state.contract.tolerance.residual,
    ),
  };
  charts.price.update(state.rounds, state.epochs);
  charts.residual.update(state.rounds, state.epochs);
  renderBar(state);
  renderTiles(state);
  renderMembers(state);
  renderNetwork(state);
  renderCertificates(state);
}

const link = document.getElementById("link");
function setLink(value, text) {
  link.dataset.state = value;
  link.textContent = text;
}

const events = new EventSource("/events");
for (const type of ["snapshot", "live", "round", "epoch", "certificate"]) {
  events.addEventListener(type, (e) => {
    applyEvent(state, type, JSON.parse(e.data));
    if (!scheduled) requestAnimationFrame(render);
    scheduled = true;
  });
}
events.addEventListener("open", () => setLink("live", "live"));
// EventSource reconnects by itself; the node sends a fresh snapshot when it does.
events.addEventListener("error", () => setLink("lost", "reconnecting…"));
