/**
 * V8 flags for a node's own OS process (devnet, Docker, the bench's and tests' node processes).
 * V8 starts the young generation small (a new space of 1.0 MiB at start; 16.8 MiB with these
 * flags) and grows it as objects survive; a node's messages are short-lived garbage at a high
 * rate, so a fresh node spent its first market scavenging a small nursery. With these flags it
 * scavenges less: 25 node processes on two cores, three interleaved pairs, CPU per accepted
 * message 3.71, 3.70, 3.39 → 3.02, 3.50, 3.22 ms, start → up 41.0, 44.4, 44.5 → 37.9, 36.7,
 * 36.8 s; GC 6.8% → 3.6% of all CPU in a system-wide profile. At 50 processes, four pairs, start
 * and market were within the runs' spread either way (docs/scaling.md §5). Memory: in an
 * allocation loop (not a node) the peak resident size went from 151 to 162–166 MiB.
 * V8 refuses --min-semi-space-size in NODE_OPTIONS, so both go on the command line of the
 * processes walras starts.
 */
export const NODE_HEAP_FLAGS: readonly string[] = ["--min-semi-space-size=16", "--max-semi-space-size=32"];
