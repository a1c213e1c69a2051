import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

/** A gossip message as stored: its signed bytes plus the fields it is looked up by. */
export interface StoredMessage {
  /** Hex digest of the signed bytes: the primary key, so re-storing a message is a no-op. */
  digest: string;
  kind: string;
  epoch: number;
  /** Absent for kinds not tied to a round (e.g. membership). */
  round?: number;
  signer: string;
  bytes: Uint8Array;
  /** Wall-clock ms when first stored; informational only, never used by the protocol maths. */
  receivedAt: number;
}

export interface MessageQuery {
  epoch: number;
  round?: number;
  kinds?: readonly string[];
  /** Only these signers' messages. */
  signers?: readonly string[];
}

/** Whether `message` is one `query` asks for: the store's filter, for messages not stored yet. */
export function matchesQuery(query: MessageQuery, message: StoredMessage): boolean {
  return (
    message.epoch === query.epoch &&
    (query.round === undefined || message.round === query.round) &&
    (query.kinds === undefined || query.kinds.includes(message.kind)) &&
    (query.signers === undefined || query.signers.includes(message.signer))
  );
}

/** One page of a query in storage order, and where the next page starts (null: no more). */
export interface MessagePage {
  /** Each with its position in the store, which a later page can start after. */
  messages: (StoredMessage & { position: number })[];
  next: number | null;
}

export interface StoredCertificate {
  epoch: number;
  bytes: Uint8Array;
}

/** An equivocation proof this node convicted an agent on (its two demands, as signed bytes). */
export interface StoredConviction {
  agent: string;
  first: Uint8Array;
  second: Uint8Array;
}

export interface Store {
  readonly path: string;
  /**
   * True when the store file was there but empty (zero bytes) and was opened as a new store: a
   * store lost or truncated, say by a disk that filled or a bad restore. SQLite takes such a file
   * for a new database without a word; the node says so (walras-node.ts).
   */
  readonly foundEmpty: boolean;
  putContract(id: string, canonicalJson: string): void;
  getContract(id: string): string | undefined;
  /** Stores a message once; returns false when its digest was already stored. */
  /** `durable`: fsync before returning (for messages this node signed). */
  putMessage(message: StoredMessage, options?: { durable?: boolean }): boolean;
  /**
   * Several messages in one transaction (one WAL write); returns how many were new. `durable`:
   * fsync before returning.
   */
  putMessages(messages: readonly StoredMessage[], options?: { durable?: boolean }): number;
  /** Matching messages ordered by round, kind, signer, digest: the same order on every node. */
  messages(query: MessageQuery): StoredMessage[];
  /**
   * At most `limit` matching messages in the order they were stored, starting after position
   * `after` (0: from the start). Positions are this store's own: a cursor, not a protocol value.
   */
  messagePage(query: MessageQuery, after: number, limit: number): MessagePage;
  /** Every stored message in the order it was stored: what a restarted node replays. */
  allMessages(): StoredMessage[];
  /**
   * One certificate per epoch; a second put for the same epoch replaces the first (LedgerBook
   * puts over it only a copy of the certificate it stored first for an epoch, signed by every
   * member).
   */
  putCertificate(epoch: number, bytes: Uint8Array): void;
  latestCertificate(): StoredCertificate | undefined;
  certificates(): StoredCertificate[];
  /**
   * Records the proof `agent` was convicted on (the first kept; store/conviction-record.ts), the
   * newest `cap` agents kept. Not fsynced: no message this node signs depends on it.
   */
  putConviction(conviction: StoredConviction, cap: number): void;
  /** The convictions recorded, oldest first. */
  convictions(): StoredConviction[];
  /**
   * A JSON snapshot (e.g. of the round state machine) under `key`. `durable`: fsync before
   * returning (for what the node promises its operator it kept, such as a saved bid).
   */
  saveState(key: string, value: unknown, options?: { durable?: boolean }): void;
  loadState(key: string): unknown;
  close(): void;
}

export const STORE_FILE = "walras.sqlite";

/** Each entry upgrades the schema from version (index) to (index + 1). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE contract (
     id   TEXT PRIMARY KEY,
     json TEXT NOT NULL
   ) STRICT;
   CREATE TABLE messages (
     digest      TEXT PRIMARY KEY,
     kind        TEXT NOT NULL,
     epoch       INTEGER NOT NULL,
     round       INTEGER,
     signer      TEXT NOT NULL,
     bytes       BLOB NOT NULL,
     received_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX messages_by_epoch_round ON messages (epoch, round);
   CREATE TABLE certificates (
     epoch INTEGER PRIMARY KEY,
     bytes BLOB NOT NULL
   ) STRICT;
   CREATE TABLE state (
     key  TEXT PRIMARY KEY,
     json TEXT NOT NULL
   ) STRICT;`,
  `CREATE TABLE convictions (
     agent  TEXT PRIMARY KEY,
     first  BLOB NOT NULL,
     second BLOB NOT NULL
   ) STRICT;`,
];

export const STORE_SCHEMA_VERSION = MIGRATIONS.length;

/** A store file this code cannot use (newer schema, or not a SQLite database). */
export class StoreOpenError extends Error {
  constructor(path: string, reason: string) {
    super(`${path}: cannot open walras store (${reason})`);
    this.name = "StoreOpenError";
  }
}

/**
 * A write the store could not make: the disk (or the file's quota) is full, the file went
 * read-only, or it failed underneath. One line naming the file, whatever SQLite said.
 */
export class StoreWriteError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: cannot write walras store (${reason})`);
    this.name = "StoreWriteError";
    this.path = path;
  }
}

export interface OpenStoreOptions {
  /**
   * Caps the file at this many pages (SQLite's max_page_count): a write past it fails as on a full
   * disk. For tests, which need SQLITE_FULL without filling a real disk.
   */
  readonly maxPageCount?: number;
}

/**
 * Opens (creating if needed) the node's SQLite store in `dir`.
 *
 * WAL with synchronous=NORMAL for ordinary writes: a commit survives a killed process; after a
 * power cut the newest may be lost (the sync protocol fetches peers' messages again, and this
 * node's own demands, votes and commits are re-derived bit for bit). FULL for writes marked
 * `durable` — signed messages a restart could not re-derive (epoch proposals; see
 * actions/action-executor.ts), and the bid record (store/bid-record.ts). FULL costs an fsync per
 * write.
 */
export function openStore(dir: string, options: OpenStoreOptions = {}): Store {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, STORE_FILE);
  const created = !existsSync(path);
  const foundEmpty = !created && statSync(path).size === 0;
  let db: DatabaseSync | undefined;
  try {
    // SQLite creates its files 0644 less the umask, and the -wal and -shm with the main file's
    // mode: made 0600 first, the store (the agent's private bid among it) is never readable by
    // others. An existing store's files are the node's own, made 0600 too (older versions left
    // them 0644).
    if (created) closeSync(openSync(path, "a", 0o600));
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    ownerOnly(path);
    migrate(db, path);
    if (options.maxPageCount !== undefined)
      db.exec(`PRAGMA max_page_count = ${Math.floor(options.maxPageCount)}`);
  } catch (err) {
    if (db?.isOpen) db.close();
    // A store this open created and could not finish (a full disk) holds nothing: left behind, a
    // part-written file would fail the next start, once there is room, as a malformed store.
    if (created) for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(path, err instanceof Error ? err.message : String(err));
  }

  const insertContract = db.prepare("INSERT OR REPLACE INTO contract (id, json) VALUES (?, ?)");
  const selectContract = db.prepare("SELECT json FROM contract WHERE id = ?");
  const insertMessage = db.prepare(
    `INSERT OR IGNORE INTO messages (digest, kind, epoch, round, signer, bytes, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertCertificate = db.prepare("INSERT OR REPLACE INTO certificates (epoch, bytes) VALUES (?, ?)");
  const selectLatestCertificate = db.prepare(
    "SELECT epoch, bytes FROM certificates ORDER BY epoch DESC LIMIT 1",
  );
  const selectCertificates = db.prepare("SELECT epoch, bytes FROM certificates ORDER BY epoch");
  const selectAll = db.prepare(
    "SELECT digest, kind, epoch, round, signer, bytes, received_at FROM messages ORDER BY rowid",
  );
  const insertConviction = db.prepare(
    "INSERT OR IGNORE INTO convictions (agent, first, second) VALUES (?, ?, ?)",
  );
  // The oldest past the cap: rowids grow with each insert, and a kept agent is never re-inserted.
  const trimConvictions = db.prepare(
    "DELETE FROM convictions WHERE rowid NOT IN (SELECT rowid FROM convictions ORDER BY rowid DESC LIMIT ?)",
  );
  const selectConvictions = db.prepare("SELECT agent, first, second FROM convictions ORDER BY rowid");
  const upsertState = db.prepare("INSERT OR REPLACE INTO state (key, json) VALUES (?, ?)");
  const selectState = db.prepare("SELECT json FROM state WHERE key = ?");

  // Queries differ only in which filters they use: prepare each shape once, not per call.
  const prepared = new Map<string, StatementSync>();
  const statement = (sql: string): StatementSync => {
    let st = prepared.get(sql);
    if (!st) {
      st = db.prepare(sql);
      prepared.set(sql, st);
    }
    return st;
  };
  const filter = (query: MessageQuery): { where: string[]; params: SQLInputValue[] } | null => {
    const where = ["epoch = ?"];
    const params: SQLInputValue[] = [query.epoch];
    if (query.round !== undefined) {
      where.push("round = ?");
      params.push(query.round);
    }
    if (query.kinds !== undefined) {
      if (query.kinds.length === 0) return null;
      where.push(`kind IN (${query.kinds.map(() => "?").join(", ")})`);
      params.push(...query.kinds);
    }
    if (query.signers !== undefined) {
      if (query.signers.length === 0) return null;
      // One statement shape for any number of signers (statements are prepared per shape).
      where.push("signer IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(query.signers));
    }
    return { where, params };
  };

  // Every write names the file when it fails: SQLite's own message ("database or disk is full")
  // does not, and reaches the operator through log lines about gossip or ticks.
  const writing = <T>(write: () => T): T => {
    try {
      return write();
    } catch (err) {
      throw new StoreWriteError(path, sqliteReason(err));
    }
  };
  const put = (m: StoredMessage): boolean =>
    Number(
      insertMessage.run(m.digest, m.kind, m.epoch, m.round ?? null, m.signer, m.bytes, m.receivedAt).changes,
    ) === 1;

  return {
    path,
    foundEmpty,
    putContract: (id, canonicalJson) => {
      writing(() => insertContract.run(id, canonicalJson));
    },
    getContract: (id) => (selectContract.get(id)?.json as string | undefined) ?? undefined,
    putMessage: (m, options) => writing(() => (options?.durable ? fullySynced(db, () => put(m)) : put(m))),
    putMessages: (messages, options) => {
      const write = () => inTransaction(db, () => messages.filter(put).length);
      return writing(() => (options?.durable ? fullySynced(db, write) : write()));
    },
    messages: (query) => {
      const f = filter(query);
      if (!f) return [];
      const rows = statement(
        `SELECT digest, kind, epoch, round, signer, bytes, received_at FROM messages
         WHERE ${f.where.join(" AND ")} ORDER BY round, kind, signer, digest`,
      ).all(...f.params);
      return rows.map(toMessage);
    },
    messagePage: (query, after, limit) => {
      const f = filter(query);
      if (!f || limit <= 0) return { messages: [], next: null };
      // One row more than asked tells whether another page follows.
      const rows = statement(
        `SELECT rowid, digest, kind, epoch, round, signer, bytes, received_at FROM messages
         WHERE ${f.where.join(" AND ")} AND rowid > ? ORDER BY rowid LIMIT ?`,
      ).all(...f.params, after, limit + 1);
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      return {
        messages: page.map((row) => ({ ...toMessage(row), position: Number(row.rowid) })),
        next: more ? Number((page.at(-1) as Row).rowid) : null,
      };
    },
    allMessages: () => selectAll.all().map(toMessage),
    // Not fsynced: a certificate is rewritten as each signature arrives (a dozen fsyncs per epoch
    // per node), and one lost to a power cut is derived again from the stored commits on replay,
    // or fetched with the ledger. This node signs nothing from it.
    putCertificate: (epoch, bytes) => {
      writing(() => insertCertificate.run(epoch, bytes));
    },
    latestCertificate: () => {
      const row = selectLatestCertificate.get();
      return row === undefined ? undefined : toCertificate(row);
    },
    certificates: () => selectCertificates.all().map(toCertificate),
    putConviction: (c, cap) => {
      writing(() =>
        inTransaction(db, () => {
          if (Number(insertConviction.run(c.agent, c.first, c.second).changes) === 1)
            trimConvictions.run(cap);
        }),
      );
    },
    convictions: () =>
      selectConvictions.all().map((row) => ({
        agent: row.agent as string,
        first: row.first as Uint8Array,
        second: row.second as Uint8Array,
      })),
    saveState: (key, value, options) => {
      const json = JSON.stringify(value);
      const write = () => upsertState.run(key, json);
      writing(() => (options?.durable ? fullySynced(db, write) : write()));
    },
    loadState: (key) => {
      const row = selectState.get(key);
      return row === undefined ? undefined : JSON.parse(row.json as string);
    },
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}

/** The store's files (those there: -wal and -shm come and go with connections) set to 0600. */
function ownerOnly(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

function migrate(db: DatabaseSync, path: string): void {
  const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  if (version > MIGRATIONS.length) {
    throw new StoreOpenError(path, `schema version ${version} is newer than supported ${MIGRATIONS.length}`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    inTransaction(db, () => {
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}

function fullySynced<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("PRAGMA synchronous = FULL");
  try {
    return fn();
  } finally {
    db.exec("PRAGMA synchronous = NORMAL");
  }
}

function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    // SQLite has already rolled back some failures itself (SQLITE_FULL, SQLITE_IOERR): a ROLLBACK
    // then fails with "no transaction is active", and throwing that would hide why.
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

/** SQLite's description of a failure ("database or disk is full"), else the error's message. */
function sqliteReason(err: unknown): string {
  const errstr = (err as { errstr?: unknown }).errstr;
  if (typeof errstr === "string" && errstr !== "") return errstr;
  return err instanceof Error ? err.message : String(err);
}

type Row = Record<string, unknown>;

function toMessage(row: Row): StoredMessage {
  const message: StoredMessage = {
    digest: row.digest as string,
    kind: row.kind as string,
    epoch: Number(row.epoch),
    signer: row.signer as string,
    bytes: row.bytes as Uint8Array,
    receivedAt: Number(row.received_at),
  };
  if (row.round !== null) message.round = Number(row.round);
  return message;
}

function toCertificate(row: Row): StoredCertificate {
  return { epoch: Number(row.epoch), bytes: row.bytes as Uint8Array };
}
