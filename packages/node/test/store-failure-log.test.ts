import { describe, expect, it } from "vitest";
import { STORE_FAILURE_LOG_MS, storeFailureLog } from "../src/logging/store-failure-log.ts";
import { captureLog } from "./log-capture.ts";

describe("storeFailureLog", () => {
  it("lets one line through per interval, the next saying how many more failed meanwhile", () => {
    const { logger, lines } = captureLog("error");
    let now = 0;
    const failed = storeFailureLog(logger, () => now);
    failed({ err: "EFBIG" }, "store write failed");
    failed({ err: "EFBIG" }, "store write failed");
    failed({ err: "ENOSPC" }, "store write failed");
    now = STORE_FAILURE_LOG_MS;
    failed({ err: "ENOSPC", what: "certificate" }, "store write failed");
    expect(lines.map(({ err, what, alsoFailed, msg }) => ({ err, what, alsoFailed, msg }))).toEqual([
      { err: "EFBIG", what: undefined, alsoFailed: undefined, msg: "store write failed" },
      { err: "ENOSPC", what: "certificate", alsoFailed: 2, msg: "store write failed" },
    ]);
  });
});
