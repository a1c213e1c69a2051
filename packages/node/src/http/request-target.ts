/**
 * The URL of a request's target (RFC 9112 §3.2), or null when it is not one this server serves:
 * origin-form ("/status?x=1") or absolute-form ("http://host/status"). `new URL(target, base)`
 * alone throws on a bad absolute-form (a port over 65535: the error became a 500), and reads
 * "//status" as the authority "status" with the path "/" (which served the dashboard).
 */
export function requestTarget(target: string | undefined): URL | null {
  if (target === undefined) return null;
  if (target.startsWith("/")) {
    if (target.startsWith("//")) return null;
    return new URL(target, "http://localhost");
  }
  if (!/^https?:\/\//i.test(target)) return null;
  try {
    return new URL(target);
  } catch {
    return null;
  }
}
