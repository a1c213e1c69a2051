/**
 * Lets a repeated log line through at most once per `intervalMs`, saying how many were held back
 * since the last: a full disk fails every write, and a line per write would bury everything else
 * (and fill what little disk is left, where the logs go to a file).
 */
export function rateLimited(
  intervalMs: number,
  now: () => number,
): (emit: (heldBack: number) => void) => void {
  let last = Number.NEGATIVE_INFINITY;
  let heldBack = 0;
  return (emit) => {
    if (now() - last < intervalMs) {
      heldBack++;
      return;
    }
    last = now();
    emit(heldBack);
    heldBack = 0;
  };
}
