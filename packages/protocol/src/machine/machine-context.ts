import type { Demand } from "../economics/demand.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId, ContractId } from "../wire/ids.ts";
import type { BidHistory } from "./bid-history.ts";
import type { Outbox } from "./outbox.ts";
import type { SlotBook } from "./slot-book.ts";
import type { Timers } from "./timers.ts";

/** What every module of the machine shares: the contract, who this node is, the clock, the outbox. */
export interface MachineContext {
  readonly contract: Contract;
  readonly contractId: ContractId;
  /** This node's agent id (its key), or null for an observer without one. */
  readonly me: AgentId | null;
  /**
   * The agent's private economics, by epoch (`bids.latest` is the newest); empty for an observer
   * (it never bids).
   */
  readonly bids: BidHistory;
  /** Fault injection for tests only: what the agent reports instead of its true demand. */
  readonly misreport: ((demand: Demand, round: number, unitPrice: number) => Demand) | null;
  /** The wire's cap on a message, which bounds an epoch's members (plan-fit.ts). */
  readonly maxMessageBytes: number;
  readonly slots: SlotBook;
  readonly timers: Timers;
  readonly out: Outbox;
  /** The time of the event being handled. */
  now: number;
}
