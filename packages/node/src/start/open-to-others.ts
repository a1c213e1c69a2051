/**
 * Whether a file or directory's mode lets its group or others in at all (any bit of 0o077): a
 * node's key, API token and data dir are its owner's alone, and the node warns at start when not.
 */
export function openToOthers(mode: number): boolean {
  return (mode & 0o077) !== 0;
}
