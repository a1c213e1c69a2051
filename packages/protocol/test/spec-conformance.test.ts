import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Certificate } from "../src/wire/certificate.ts";
import { verifyCertificate } from "../src/wire/certificate.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";

/**
 * An implementation written from docs/protocol.md alone — its §1 encoding, §2 defaults and §8
 * certificate check — must agree with the reference code. Nothing below imports the reference's
 * canonical JSON, hashing, key or signature code: it is transcribed from the document.
 */

const spec = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");

/** §1: keys sorted by UTF-16 code units, no whitespace, JSON.stringify numbers and strings, -0 as 0. */
function canonical(value: unknown): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("no encoding for NaN or Infinity");
    return Object.is(value, -0) ? "0" : JSON.stringify(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

const sha256 = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");

/** §2's defaults, as its table states them. */
function withDefaults(doc: Record<string, unknown>): Record<string, unknown> {
  const resources = doc.resources as unknown[];
  return {
    priceRule: { kind: "newton" },
    proximal: 0,
    tolerance: { residual: 1e-6, price: 1e-9 },
    maxRounds: 10000,
    initialPrices: resources.map(() => 0),
    membership: { policy: "open" },
    quorum: 2 / 3,
    minMembers: 1,
    timeouts: { roundMs: 4000, announceMs: 1000 },
    ...doc,
  };
}

/** §1: base58btc, Bitcoin alphabet. */
function base58Decode(text: string): Uint8Array {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let n = 0n;
  for (const ch of text) {
    const digit = alphabet.indexOf(ch);
    if (digit < 0) throw new Error(`not base58: ${ch}`);
    n = n * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const ch of text) {
    if (ch !== "1") break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** §1: the Ed25519 key is the id's bytes after the prefix 00 24 08 01 12 20. */
function keyOfAgent(id: string) {
  const bytes = base58Decode(id);
  const prefix = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
  if (bytes.length !== 38 || prefix.some((b, i) => bytes[i] !== b))
    throw new Error(`${id} is not an Ed25519 id`);
  // RFC 8410 SubjectPublicKeyInfo for Ed25519.
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), bytes.subarray(6)]);
  return createPublicKey({ key: spki, format: "der", type: "spki" });
}

/** §8's six steps, for a contract document with its defaults filled in. */
function specVerify(cert: Certificate, contract: Record<string, unknown>): string | null {
  const c = cert.commit as Record<string, unknown> & {
    members: string[];
    prices: number[];
    allocations: { agent: string; x: number; footprint: number[] }[];
    approximate?: true;
  };
  if (c.contract !== sha256(canonical(contract))) return "contract";
  for (let i = 1; i < c.members.length; i++)
    if (!((c.members[i - 1] as string) < (c.members[i] as string))) return "members";
  const resources = contract.resources as { capacity: number }[];
  if (c.prices.length !== resources.length) return "prices";
  if (c.allocations.length !== c.members.length || c.allocations.some((a, i) => a.agent !== c.members[i]))
    return "allocations";
  const bytes = Buffer.concat([Buffer.from("walras/v2/commit\n"), Buffer.from(canonical(c))]);
  const signers = new Set<string>();
  for (const s of cert.signatures) {
    if (!c.members.includes(s.agent) || signers.has(s.agent)) return "signer";
    if (!verify(null, bytes, keyOfAgent(s.agent), Buffer.from(s.sig, "base64"))) return "signature";
    signers.add(s.agent);
  }
  const quorum = Math.max(1, Math.ceil((contract.quorum as number) * c.members.length - 1e-9));
  if (signers.size < quorum) return "quorum";
  const supply = resources.map((_, r) =>
    c.allocations.reduce((sum, a) => sum + (a.footprint[r] as number) * a.x, 0),
  );
  const eps = (contract.tolerance as { residual: number }).residual;
  if (c.approximate)
    return supply.every((s, r) => s <= (resources[r] as { capacity: number }).capacity * (1 + eps))
      ? null
      : "fit";
  const residual = Math.max(
    ...resources.map((res, r) => {
      const excess = (supply[r] as number) - res.capacity;
      return ((c.prices[r] as number) > 0 ? Math.abs(excess) : Math.max(0, excess)) / res.capacity;
    }),
  );
  return residual <= eps * 1.000001 + 1e-12 ? null : "residual";
}

const documents: Record<string, unknown>[] = [
  { name: "compute", resources: [{ id: "cpu", capacity: 100 }], fees: { perUnit: 0.5, fixed: 0 } },
  {
    name: "energy, with a supplier",
    resources: [
      { id: "kwh", capacity: 40 },
      { id: "grid", capacity: 7.5 },
    ],
    fees: { perUnit: 0, fixed: 1 },
    initialPrices: [0.25, 0],
    quorum: 0.75,
    timeouts: { roundMs: 2500, announceMs: 500 },
  },
];

describe("docs/protocol.md, read as a spec", () => {
  it("§2 lists the defaults this test fills in", () => {
    const table = spec.slice(spec.indexOf("## 2. The contract"), spec.indexOf("## 3. Transport"));
    for (const row of [
      /`priceRule`.*\| newton \|/,
      /`proximal`.*\| 0 \|/,
      /`tolerance`.*\| 1e-6, 1e-9 \|/,
      /`maxRounds`.*\| 10000 \|/,
      /`initialPrices`.*\| zeros \(one per resource\) \|/,
      /`membership`.*\| open \|/,
      /`quorum`.*\| 2\/3/,
      /`minMembers`.*\| 1 \|/,
      /`timeouts`.*\| 4000, 1000 \|/,
    ])
      expect(table).toMatch(row);
  });

  it("§1 + §2: the contract id computed from the document's rules is the reference's", () => {
    for (const doc of documents) {
      const ours = sha256(canonical(withDefaults(doc)));
      expect(contractId(contractSchema.parse(doc))).toBe(ours);
    }
  });

  it("§8: a live certificate passes the spec's check, and any tampering fails it and the reference alike", () => {
    const doc = withDefaults({
      name: "spec",
      resources: [{ id: "capacity", capacity: 6 }],
      fees: { perUnit: 0.5, fixed: 0 },
      minMembers: 4,
      timeouts: { roundMs: 2000, announceMs: 200 },
    });
    const contract = contractSchema.parse(doc);
    const net = new SimulatedNetwork({ contract, seed: 7 });
    const nodes = paperProfiles(4, 3).map((p, i) => net.addAgent(`n${i}`, p));
    expect(net.runUntil(() => nodes.every((n) => n.machine.status().certificate !== null), 60_000)).toBe(
      true,
    );
    const cert = nodes[0]?.machine.status().certificate as Certificate;
    expect(specVerify(cert, doc)).toBeNull();
    expect(verifyCertificate(cert, contract).ok).toBe(true);

    const tampered: Certificate[] = [
      { ...cert, commit: { ...cert.commit, prices: cert.commit.prices.map((p) => p * 1.01) } },
      { ...cert, commit: { ...cert.commit, epoch: cert.commit.epoch + 1 } },
      { ...cert, signatures: cert.signatures.slice(0, 1) },
      { ...cert, signatures: [...cert.signatures, cert.signatures[0] as Certificate["signatures"][number]] },
      {
        ...cert,
        commit: {
          ...cert.commit,
          allocations: cert.commit.allocations.map((a, i) => (i === 0 ? { ...a, x: a.x + 0.5 } : a)),
        },
      },
    ];
    for (const t of tampered) {
      expect(specVerify(t, doc)).not.toBeNull();
      expect(verifyCertificate(t, contract).ok).toBe(false);
    }
    // The same certificate under another contract document fails both.
    const other = withDefaults({ ...doc, name: "another" });
    expect(specVerify(cert, other)).toBe("contract");
    expect(verifyCertificate(cert, contractSchema.parse(other)).ok).toBe(false);
  });
});
