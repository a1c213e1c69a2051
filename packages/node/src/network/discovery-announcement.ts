import { publicKeyFromProtobuf } from "@libp2p/crypto/keys";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPublicKey } from "@libp2p/peer-id";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";

/** The topic on which nodes announce their addresses (@libp2p/pubsub-peer-discovery). */
export const DISCOVERY_TOPIC = "/walras/peer-discovery/1";

/**
 * An honest announcement is one Ed25519 key (36 bytes) and a node's listen addresses, a few dozen
 * bytes each: about 200 bytes for a node on two interfaces. 8 addresses is what peer exchange
 * passes on per peer too; 2 KiB leaves room for an RSA key and long DNS names.
 */
export const MAX_ANNOUNCEMENT_BYTES = 2048;
export const MAX_ANNOUNCED_ADDRS = 8;

export interface DiscoveryAnnouncement {
  readonly peerId: PeerId;
  readonly addrs: readonly Multiaddr[];
}

export type AnnouncementProblem = "oversize" | "too_many_addrs" | "malformed" | "bad_multiaddr";

export type DecodedAnnouncement =
  | { readonly ok: true; readonly announcement: DiscoveryAnnouncement }
  | { readonly ok: false; readonly problem: AnnouncementProblem; readonly detail: string };

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const FIELD_PUBLIC_KEY = 1;
const FIELD_ADDRS = 2;

/**
 * Decodes the package's protobuf `Peer { bytes publicKey = 1; repeated bytes addrs = 2; }` under
 * the limits above. The package's own decoder is not exported and takes any number of addresses,
 * so the checks have to run on the bytes before it sees them. Unknown fields are skipped, as
 * protobuf readers do, so a later version of the message still passes.
 */
export function decodeAnnouncement(bytes: Uint8Array): DecodedAnnouncement {
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES)
    return fail("oversize", `${bytes.length} bytes, more than ${MAX_ANNOUNCEMENT_BYTES}`);
  let publicKey: Uint8Array | undefined;
  const rawAddrs: Uint8Array[] = [];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error("truncated varint");
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new Error("varint longer than 5 bytes");
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) throw new Error("field runs past the end");
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  try {
    while (pos < bytes.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === WIRE_BYTES) {
        const value = take(varint());
        if (field === FIELD_PUBLIC_KEY) publicKey = value;
        else if (field === FIELD_ADDRS) {
          if (rawAddrs.length === MAX_ANNOUNCED_ADDRS)
            return fail("too_many_addrs", `more than ${MAX_ANNOUNCED_ADDRS} addresses`);
          rawAddrs.push(value);
        }
      } else if (wire === WIRE_VARINT) varint();
      else if (wire === WIRE_FIXED64) take(8);
      else if (wire === WIRE_FIXED32) take(4);
      else throw new Error(`wire type ${wire} in field ${field}`);
    }
  } catch (err) {
    return fail("malformed", message(err));
  }
  if (publicKey === undefined || publicKey.length === 0) return fail("malformed", "no public key");
  let peerId: PeerId;
  try {
    peerId = peerIdFromPublicKey(publicKeyFromProtobuf(publicKey));
  } catch (err) {
    return fail("malformed", `public key: ${message(err)}`);
  }
  const addrs: Multiaddr[] = [];
  for (const [i, raw] of rawAddrs.entries()) {
    try {
      const addr = multiaddr(raw);
      if (addr.getComponents().length === 0) throw new Error("empty multiaddr");
      addrs.push(addr);
    } catch (err) {
      return fail("bad_multiaddr", `addrs.${i}: ${message(err)}`);
    }
  }
  return { ok: true, announcement: { peerId, addrs } };
}

function fail(problem: AnnouncementProblem, detail: string): DecodedAnnouncement {
  return { ok: false, problem, detail };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
