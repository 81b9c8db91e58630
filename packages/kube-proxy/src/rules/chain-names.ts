// Chain names of the iptables proxier (upstream's pkg/proxy/iptables/proxier.go constants and
// portProtoHash): per-service chains are a prefix plus the first 16 base32 characters of sha256.
import * as crypto from 'node:crypto';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** The kubelet's anti-martian chain, which kube-proxy duplicates when localhost NodePorts are on. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

export const SVC_PREFIX = 'KUBE-SVC-';
export const SVL_PREFIX = 'KUBE-SVL-';
export const FW_PREFIX = 'KUBE-FW-';
export const EXT_PREFIX = 'KUBE-EXT-';
export const SEP_PREFIX = 'KUBE-SEP-';

const SERVICE_CHAIN_PREFIXES = [SVC_PREFIX, SVL_PREFIX, SEP_PREFIX, FW_PREFIX, EXT_PREFIX];

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding) of the first `chars` characters only. */
function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === chars) return out;
    }
  }
  return out;
}

// crypto.hash (one-shot, Node >= 20.12) is several times cheaper than createHash per call.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash;
const sha256 = (s: string): Uint8Array => (oneShot ? oneShot('sha256', s, 'buffer') : crypto.createHash('sha256').update(s).digest());

/**
 * Hashes already computed, by input: a sync renders the same services again and again (upstream
 * computes these once per Service or EndpointSlice change). Cleared when it grows past a bound.
 */
const memo = new Map<string, string>();
const MEMO_LIMIT = 500_000;

function hash16(input: string): string {
  let h = memo.get(input);
  if (h === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    h = base32Prefix(sha256(input), 16);
    memo.set(input, h);
  }
  return h;
}

/** 16 characters naming a service port: sha256(servicePortName + protocol), base32. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol);
}

export const clusterPolicyChainName = (spn: string, protocol: string) => SVC_PREFIX + portProtoHash(spn, protocol);
export const localPolicyChainName = (spn: string, protocol: string) => SVL_PREFIX + portProtoHash(spn, protocol);
export const firewallChainName = (spn: string, protocol: string) => FW_PREFIX + portProtoHash(spn, protocol);
export const externalChainName = (spn: string, protocol: string) => EXT_PREFIX + portProtoHash(spn, protocol);

/** KUBE-SEP-…: the endpoint ("ip:port") is part of the hash. */
export function endpointChainName(spn: string, protocol: string, endpoint: string): string {
  return SEP_PREFIX + hash16(spn + protocol + endpoint);
}

/** True for the per-service chains the proxier creates and garbage-collects. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
