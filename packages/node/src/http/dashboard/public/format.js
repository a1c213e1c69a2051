/** Prices always with six significant digits: the page and /status agree to what is shown. */
export function formatPrice(value) {
  if (value === null || value === undefined) return "—";
  return value === 0 ? "0" : value.toPrecision(6);
}

/** Quantities and money: five significant digits, no trailing zeros, exponent when far from 1. */
export function formatAmount(value) {
  if (value === null || value === undefined) return "—";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e9) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

export function formatResidual(value) {
  if (value === null || value === undefined) return "—";
  return value === 0 ? "0" : value.toExponential(2);
}

/** Peer ids share their first characters (the key type): the tail tells them apart. */
export function shortId(id) {
  return id.length > 14 ? `…${id.slice(-8)}` : id;
}

export function shortDigest(digest) {
  return digest.length > 16 ? `${digest.slice(0, 12)}…` : digest;
}
