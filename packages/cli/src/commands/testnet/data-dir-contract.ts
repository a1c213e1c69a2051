import { existsSync } from "node:fs";
import { join } from "node:path";
import { openStore, STORE_FILE } from "@walras/node";
import { contractId, contractSchema } from "@walras/protocol";
import { InputError } from "../../cli-error.ts";
import { readJsonFile } from "../../read-json-file.ts";

/**
 * Refuses a data dir that already serves another contract than `id`, before anything is written to
 * it: its `contract.json` (what an earlier join saved) or the contract its store was claimed for.
 * The node would refuse such a dir anyway, but only after `testnet join` had overwritten
 * `contract.json` with the other market's contract.
 */
export async function checkDataDirContract(dataDir: string, id: string): Promise<void> {
  const file = join(dataDir, "contract.json");
  if (existsSync(file)) {
    const saved = contractId(await readJsonFile(file, contractSchema));
    if (saved !== id)
      throw new InputError(
        `${file}: the data dir holds contract ${saved}, not ${id} (the network's); use another --data-dir`,
      );
  }
  // Opened only when it exists: opening creates it.
  if (existsSync(join(dataDir, STORE_FILE))) {
    const store = openStore(dataDir);
    try {
      const claimed = store.loadState("contractId");
      if (typeof claimed === "string" && claimed !== id)
        throw new InputError(
          `${dataDir}: data dir belongs to contract ${claimed}, not ${id} (the network's); use another --data-dir`,
        );
    } finally {
      store.close();
    }
  }
}
