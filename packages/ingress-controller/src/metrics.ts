// The controller's Prometheus metrics, one registry per controller (several may run in one test
// process), named after ingress-nginx's (nginx_ingress_controller_requests and friends) without nginx.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class IngressMetrics {
  readonly registry = new Registry();
  /** Requests answered, by Ingress, Service and status code (404/503 ones without an Ingress or Service). */
  readonly requests = new Counter({
    name: 'ingress_controller_requests',
    help: 'The total number of client requests',
    labelNames: ['namespace', 'ingress', 'service', 'status', 'method', 'scheme'],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'ingress_controller_request_duration_seconds',
    help: 'The request processing time in seconds (until the last byte is sent to the client)',
    labelNames: ['namespace', 'ingress', 'service'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'ingress_controller_upstream_errors',
    help: 'Connections to upstream endpoints that failed',
    labelNames: ['namespace', 'service'],
    registers: [this.registry],
  });
  readonly ingresses = new Gauge({ name: 'ingress_controller_ingresses', help: 'Ingresses handled by this controller', registers: [this.registry] });
  readonly routes = new Gauge({ name: 'ingress_controller_routes', help: 'Host and path rules in the routing table', registers: [this.registry] });
  readonly sslCertificates = new Gauge({ name: 'ingress_controller_ssl_certificates', help: 'TLS hosts served with a certificate from a Secret', registers: [this.registry] });
  readonly reloads = new Counter({ name: 'ingress_controller_config_reloads', help: 'Routing table rebuilds', registers: [this.registry] });
  readonly statusUpdates = new Counter({
    name: 'ingress_controller_status_updates',
    help: 'Ingress load-balancer status updates, by result',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
