// Clearing stale UDP conntrack entries after a sync (upstream's pkg/proxy/conntrack/cleanup.go, in
// the older `conntrack -D` form): UDP has no connection to break, so an entry DNATed to an endpoint
// that went away (or created while a service had no endpoints) would keep blackholing the flow.
// Best effort with Debian's `conntrack`; skipped when the binary is absent.
import { categorizeEndpoints, servicePortKey, type EndpointInfo, type ServicePortInfo } from './rules/service-ports.js';
import { execCommand, type ExecResult } from './iptables/iptables.js';

/** What conntrack cleanup needs from a sync: UDP service ports and the endpoint IPs serving them. */
export interface UDPServiceState {
  svc: ServicePortInfo;
  endpointIPs: Set<string>;
}

export function udpServiceStates(servicePorts: readonly ServicePortInfo[], endpoints: Map<string, EndpointInfo[]>): Map<string, UDPServiceState> {
  const out = new Map<string, UDPServiceState>();
  for (const svc of servicePorts) {
    if (svc.protocol !== 'UDP') continue;
    const key = servicePortKey(svc.name, svc.protocol);
    const { allReachable } = categorizeEndpoints(endpoints.get(key) ?? [], svc);
    out.set(key, { svc, endpointIPs: new Set(allReachable.map((e) => e.ip)) });
  }
  return out;
}

/** One `conntrack -D` filter. */
export type ConntrackDeletion =
  | { kind: 'ip'; origDst: string; port: number }
  | { kind: 'nat'; origDst: string; port: number; dstNat: string }
  | { kind: 'port'; port: number }
  | { kind: 'portNat'; port: number; dstNat: string };

/**
 * The deletions a change from `prev` to `next` calls for: entries DNATed to an endpoint that is gone
 * (for every service IP and the NodePort), and entries to a service that had no endpoints and has now.
 */
export function staleUDPDeletions(prev: Map<string, UDPServiceState>, next: Map<string, UDPServiceState>): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  for (const [key, before] of prev) {
    const after = next.get(key);
    for (const ip of before.endpointIPs) {
      if (after?.endpointIPs.has(ip)) continue;
      const svc = before.svc;
      for (const vip of [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs]) out.push({ kind: 'nat', origDst: vip, port: svc.port, dstNat: ip });
      if (svc.nodePort) out.push({ kind: 'portNat', port: svc.nodePort, dstNat: ip });
    }
  }
  for (const [key, after] of next) {
    if (after.endpointIPs.size === 0) continue;
    const before = prev.get(key);
    if (before && before.endpointIPs.size > 0) continue;
    const svc = after.svc;
    for (const vip of [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs]) out.push({ kind: 'ip', origDst: vip, port: svc.port });
    if (svc.nodePort) out.push({ kind: 'port', port: svc.nodePort });
  }
  return out;
}

/** The `conntrack` arguments for a deletion (UDP only). */
export function conntrackArgs(d: ConntrackDeletion): string[] {
  switch (d.kind) {
    case 'ip':
      return ['-D', '-p', 'udp', '--orig-dst', d.origDst, '--dport', String(d.port)];
    case 'nat':
      return ['-D', '-p', 'udp', '--orig-dst', d.origDst, '--dport', String(d.port), '--dst-nat', d.dstNat];
    case 'port':
      return ['-D', '-p', 'udp', '--dport', String(d.port)];
    case 'portNat':
      return ['-D', '-p', 'udp', '--dport', String(d.port), '--dst-nat', d.dstNat];
  }
}

export interface Conntrack {
  /** Deletes matching entries; resolves false when conntrack is not installed. */
  delete(d: ConntrackDeletion): Promise<boolean>;
}

export class ExecConntrack implements Conntrack {
  private missing = false;
  constructor(private readonly exec: typeof execCommand = execCommand) {}

  async delete(d: ConntrackDeletion): Promise<boolean> {
    if (this.missing) return false;
    let r: ExecResult;
    try {
      r = await this.exec('conntrack', conntrackArgs(d), undefined, 10_000);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.missing = true;
        return false;
      }
      throw err;
    }
    // Exit status 1 with "0 flow entries have been deleted" just means there was nothing to delete.
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) throw new Error(`conntrack ${conntrackArgs(d).join(' ')} failed: ${r.stderr.trim()}`);
    return true;
  }
}
