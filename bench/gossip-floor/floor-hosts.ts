import type { ProcessCpuTimes } from "@walras/test-support";

/**
 * n bare hosts on the floor's topic, wherever they run (in this process, or one OS process each),
 * as the floor's rounds see them.
 */
export interface FloorHosts {
  readonly size: number;
  /** gossipsub's D_lo, the mesh size at which a host counts as meshed. */
  readonly dlo: number;
  /** Each host's mesh size on the floor's topic, as last known. */
  meshes(): readonly number[];
  /** Whether every host holds every other host's message of `round`. */
  delivered(round: number): boolean;
  /** Has every host publish its message of `round`. */
  publish(round: number, bytes: number): Promise<void>;
  /** Every message the hosts' gossipsub received so far, duplicates included. */
  receptions(): Promise<number>;
  /** CPU the hosts have used so far (for hosts in this process, the whole process's). */
  cpu(): ProcessCpuTimes;
  /** `wake` is called whenever `meshes` or `delivered` may have changed. */
  onChange(wake: () => void): void;
  stop(): Promise<void>;
}
