// The proxier's health (upstream's pkg/proxy/healthcheck/proxier_health.go): healthy while no queued
// update has waited longer than the timeout (2 x --iptables-sync-period) and the node is not being
// deleted. Served as /healthz and /livez on --healthz-bind-address (0.0.0.0:10256).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node } from 'kubernetes-types/core/v1';
import { realClock, type Clock } from '@kubelab/client';
import type { ProxyMetrics } from './metrics.js';

/** The cluster autoscaler's taint on nodes it is about to delete. */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

export class ProxyHealthServer {
  private lastUpdated?: number;
  private oldestPendingQueued?: number;
  private nodeEligible = true;
  constructor(
    private readonly healthTimeoutMs: number,
    private readonly clock: Clock = realClock,
    private readonly metrics?: ProxyMetrics,
  ) {}

  /** Rules were applied: everything queued so far is done. */
  updated(): void {
    this.oldestPendingQueued = undefined;
    this.lastUpdated = this.clock.now();
  }

  /** A change arrived that still has to be written to iptables. */
  queuedUpdate(): void {
    this.oldestPendingQueued ??= this.clock.now();
  }

  /** A node being deleted (or tainted for deletion) fails /healthz so load balancers drain it. */
  syncNode(node: Node): void {
    this.nodeEligible = !node.metadata?.deletionTimestamp && !(node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
  }

  isHealthy(): { healthy: boolean; lastUpdated?: number } {
    if (this.lastUpdated === undefined) return { healthy: true, lastUpdated: undefined };
    if (this.oldestPendingQueued === undefined) return { healthy: true, lastUpdated: this.lastUpdated };
    return { healthy: this.clock.now() - this.oldestPendingQueued < this.healthTimeoutMs, lastUpdated: this.lastUpdated };
  }

  /** GET /healthz: 200 or 503 with {"lastUpdated", "currentTime", "nodeEligible"}. */
  readonly healthz = (_req: IncomingMessage, res: ServerResponse): void => this.respond(res, true);
  /** GET /livez: as /healthz without the node's eligibility. */
  readonly livez = (_req: IncomingMessage, res: ServerResponse): void => this.respond(res, false);

  private respond(res: ServerResponse, withNode: boolean): void {
    const now = this.clock.now();
    let { healthy, lastUpdated } = this.isHealthy();
    if (withNode) healthy &&= this.nodeEligible;
    const code = healthy ? 200 : 503;
    (withNode ? this.metrics?.healthzTotal : this.metrics?.livezTotal)?.inc({ code: String(code) });
    // A healthy proxy reports "now" as lastUpdated, as older releases did.
    if (healthy) lastUpdated = now;
    const body = withNode
      ? `{"lastUpdated": ${JSON.stringify(goTime(lastUpdated))},"currentTime": ${JSON.stringify(goTime(now))}, "nodeEligible": ${this.nodeEligible}}`
      : `{"lastUpdated": ${JSON.stringify(goTime(lastUpdated))},"currentTime": ${JSON.stringify(goTime(now))}}`;
    res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  }
}

/** Go's time.Time.String() in UTC ("2006-01-02 15:04:05.999999999 +0000 UTC"); the zero time when undefined. */
export function goTime(ms: number | undefined): string {
  if (ms === undefined) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = new Date(ms).toISOString(); // 2026-12-02T22:00:00.123Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}
