/**
 * V8 flags for a node's own OS process (devnet, Docker, the bench's and tests' node processes).
 * V8 starts the young generation at 1 MiB and grows it as it survives scavenges; a node's messages
 * are short-lived garbage at a high rate, so a node spent its first market scavenging and faulting
 * in fresh pages. From 16 MiB (at most 32) it scavenges less: 25 node processes on two cores,
 * three interleaved pairs, CPU per accepted message 3.71, 3.70, 3.39 → 3.02, 3.50, 3.22 ms,
 * start → up 41.0, 44.4, 44.5 → 37.9, 36.7, 36.8 s; GC 6.8% → 3.6% of all CPU in a system-wide
 * profile. At 50 processes, four pairs, start and market were within the runs' spread either way
 * (docs/scaling.md §5). The cost is up to ~32 MiB more resident memory a process.
 * Neither flag can go in NODE_OPTIONS (V8 refuses --min-semi-space-size there), so they go on the
 * command line of the processes walras starts.
 */
export const NODE_HEAP_FLAGS: readonly string[] = ["--min-semi-space-size=16", "--max-semi-space-size=32"];
