/** What the page knows, kept as the node's /events stream tells it (see dashboard-frames.ts). */
const MAX_ROUNDS = 2000;
const MAX_EPOCHS = 200;

export function createMarketState() {
  return {
    contract: null,
    status: null,
    members: [],
    peers: [],
    traffic: { accepted: {}, rejected: {}, ignored: {} },
    rounds: [],
    epochs: [],
    /** Newest first, one per epoch. */
    certificates: [],
  };
}

export function applyEvent(state, type, data) {
  switch (type) {
    case "snapshot":
      Object.assign(state, {
        contract: data.contract,
        status: data.status,
        members: data.members,
        peers: data.peers,
        traffic: data.traffic,
        rounds: data.rounds,
        epochs: data.epochs,
        certificates: data.certificates,
      });
      break;
    case "live":
      state.status = data.status;
      if (data.members) state.members = data.members;
      state.peers = data.peers;
      state.traffic = data.traffic;
      break;
    case "round":
      pushBounded(state.rounds, data, MAX_ROUNDS);
      break;
    case "epoch":
      pushBounded(state.epochs, data, MAX_EPOCHS);
      break;
    case "certificate":
      state.certificates = [data, ...state.certificates.filter((c) => c.epoch !== data.epoch)].sort(
        (a, b) => b.epoch - a.epoch,
      );
      break;
  }
}

/** The certificate whose charges the members table shows: this epoch's, else the newest. */
export function settlingCertificate(state) {
  const epoch = state.status?.epoch;
  return state.certificates.find((c) => c.epoch === epoch) ?? state.certificates[0] ?? null;
}

function pushBounded(list, item, limit) {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
