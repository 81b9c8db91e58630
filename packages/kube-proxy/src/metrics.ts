// kube-proxy's Prometheus metrics (upstream's pkg/proxy/metrics/metrics.go), one registry per proxier.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const exponential = (start: number, factor: number, count: number) => Array.from({ length: count }, (_, i) => start * factor ** i);
const linear = (start: number, width: number, count: number) => Array.from({ length: count }, (_, i) => start + width * i);

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly labelNames = ['ip_family'] as const;
  readonly syncProxyRulesLatency = new Histogram({
    name: 'kubeproxy_sync_proxy_rules_duration_seconds',
    help: 'SyncProxyRules latency in seconds',
    labelNames: this.labelNames,
    buckets: exponential(0.001, 2, 15),
    registers: [this.registry],
  });
  readonly syncFullProxyRulesLatency = new Histogram({
    name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
    help: 'SyncProxyRules latency in seconds for full resyncs',
    labelNames: this.labelNames,
    buckets: exponential(0.001, 2, 15),
    registers: [this.registry],
  });
  readonly syncPartialProxyRulesLatency = new Histogram({
    name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
    help: 'SyncProxyRules latency in seconds for partial resyncs',
    labelNames: this.labelNames,
    buckets: exponential(0.001, 2, 15),
    registers: [this.registry],
  });
  readonly syncProxyRulesLastTimestamp = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
    help: 'The last time proxy rules were successfully synced',
    labelNames: this.labelNames,
    registers: [this.registry],
  });
  readonly syncProxyRulesLastQueuedTimestamp = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
    help: 'The last time a sync of proxy rules was queued',
    labelNames: this.labelNames,
    registers: [this.registry],
  });
  readonly networkProgrammingLatency = new Histogram({
    name: 'kubeproxy_network_programming_duration_seconds',
    help: 'In Cluster Network Programming Latency in seconds',
    labelNames: this.labelNames,
    buckets: [...linear(0.25, 0.25, 2), ...linear(1, 1, 59), ...linear(60, 5, 12), ...linear(120, 30, 7)],
    registers: [this.registry],
  });
  readonly iptablesRestoreFailures = new Counter({
    name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
    help: 'Cumulative proxy iptables restore failures',
    labelNames: this.labelNames,
    registers: [this.registry],
  });
  readonly iptablesRulesTotal = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_iptables_total',
    help: 'Total number of iptables rules owned by kube-proxy',
    labelNames: ['table', 'ip_family'],
    registers: [this.registry],
  });
  readonly iptablesRulesLastSync = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_iptables_last',
    help: 'Number of iptables rules written by kube-proxy in last sync',
    labelNames: ['table', 'ip_family'],
    registers: [this.registry],
  });
  readonly endpointChangesTotal = new Counter({
    name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
    help: 'Cumulative proxy rules Endpoint changes',
    registers: [this.registry],
  });
  readonly serviceChangesTotal = new Counter({
    name: 'kubeproxy_sync_proxy_rules_service_changes_total',
    help: 'Cumulative proxy rules Service changes',
    registers: [this.registry],
  });
  readonly noLocalEndpointsTotal = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
    help: 'Number of services with a Local traffic policy and no endpoints',
    labelNames: ['traffic_policy', 'ip_family'],
    registers: [this.registry],
  });
  readonly healthzTotal = new Counter({
    name: 'kubeproxy_proxy_healthz_total',
    help: 'Cumulative proxy healthz HTTP status',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly livezTotal = new Counter({
    name: 'kubeproxy_proxy_livez_total',
    help: 'Cumulative proxy livez HTTP status',
    labelNames: ['code'],
    registers: [this.registry],
  });
}
