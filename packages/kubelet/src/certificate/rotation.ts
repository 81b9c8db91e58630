// Counterpart of client-go's util/certificate Manager as the kubelet runs it with --rotate-certificates: the client
// certificate in <cert-dir>/kubelet-client-current.pem is renewed before it expires. At a jittered point between 70%
// and 84% of its lifetime the kubelet makes a new key, asks for a certificate for system:node:<name> with its current
// credentials (the csrapproving controller approves a node's own renewal as certificatesigningrequests/selfnodeclient),
// stores the issued pair and switches its API clients to it. A failed attempt is tried again with a growing back-off.
import { X509Certificate } from 'node:crypto';
import type { Logger } from '@kubelab/component-base';
import {
  type CSRClient,
  csrObject,
  currentPairPath,
  kubeletClientUsages,
  loadCurrentPair,
  newPrivateKeyPem,
  nodeClientCSR,
  storePair,
  validClientPair,
  waitForCertificate,
} from './bootstrap.js';

/** Upstream's rotation point: 70% of the lifetime plus up to 20% of that (wait.Jitter(0.7 * total, 0.2)). */
export const defaultRotationFraction = (): number => 0.7 * (1 + 0.2 * Math.random());

/** Back-off between failed attempts: 2 s doubling to 5 min (client-go's certificate manager). */
const BACKOFF_START_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertificateRotationOptions {
  certDir: string;
  nodeName: string;
  /** certificatesigningrequests, authenticated as the node itself. */
  csrClient: CSRClient;
  /** The pair in use when the certificate directory has none (upstream: the kubeconfig's own client certificate). */
  initial?: { certPem?: string; keyPem?: string };
  /** Called with the new pair once it is stored (switch the API clients to it). */
  onRotated: (certPem: string, keyPem: string) => void;
  logger: Logger;
  /** How long to wait for a request to be issued (upstream: 15 min). */
  issueTimeoutMs?: number;
  /** The fraction of the lifetime at which to renew (tests fix it). */
  rotationFraction?: () => number;
  now?: () => Date;
}

/** When a certificate valid from `notBefore` to `notAfter` is to be renewed. */
export function rotationDeadline(notBefore: Date, notAfter: Date, fraction: number): Date {
  const total = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + total * fraction);
}

export class CertificateRotation {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private failures = 0;
  /** Rotations completed (metrics and tests). */
  rotations = 0;

  constructor(private readonly o: CertificateRotationOptions) {}

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  /** Starts the loop; false when there is no valid client certificate to renew (nothing to rotate). */
  start(): boolean {
    const now = this.now();
    const { certPem, keyPem } = this.o.initial ?? {};
    const pair = loadCurrentPair(this.o.certDir, now) ?? (validClientPair(certPem, keyPem, now) ? { certPem: certPem! } : undefined);
    if (!pair) {
      this.o.logger.warn({ path: currentPairPath(this.o.certDir) }, 'No valid client certificate to rotate; client certificate rotation is off');
      return false;
    }
    this.scheduleFor(pair.certPem);
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private scheduleFor(certPem: string): void {
    const cert = new X509Certificate(certPem);
    const deadline = rotationDeadline(new Date(cert.validFrom), new Date(cert.validTo), (this.o.rotationFraction ?? defaultRotationFraction)());
    this.o.logger.info({ expiration: new Date(cert.validTo).toISOString(), rotationDeadline: deadline.toISOString() }, 'Certificate expiration is known; waiting for the rotation deadline');
    this.waitUntil(deadline.getTime());
  }

  private waitUntil(at: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, at - this.now().getTime());
    this.timer = setTimeout(() => (delay > MAX_TIMER_MS ? this.waitUntil(at) : void this.rotate()), Math.min(delay, MAX_TIMER_MS));
    this.timer.unref();
  }

  /** One renewal: new key, CSR with the node's credentials, wait for issue, store, hand over. */
  async rotate(): Promise<void> {
    if (this.stopped) return;
    try {
      const keyPem = await newPrivateKeyPem();
      const usages = kubeletClientUsages(keyPem);
      const request = csrObject('', await nodeClientCSR(this.o.nodeName, keyPem), usages);
      // Renewals are named by the server (upstream's generateName "csr-").
      request.metadata = { generateName: 'csr-' };
      const created = await this.o.csrClient.create(request);
      const name = String(created.metadata?.name);
      this.o.logger.info({ csr: name }, 'Rotating the client certificate');
      const certPem = await waitForCertificate(this.o.csrClient, name, { timeoutMs: this.o.issueTimeoutMs ?? 15 * 60_000, logger: this.o.logger });
      if (this.stopped) return;
      storePair(this.o.certDir, certPem, keyPem, this.now());
      this.failures = 0;
      this.rotations++;
      this.o.onRotated(certPem, keyPem);
      this.scheduleFor(certPem);
    } catch (err) {
      if (this.stopped) return;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.failures++);
      this.o.logger.error({ err: (err as Error).message, retryInMs: backoff }, 'Failed while requesting a signed certificate from the control plane');
      this.waitUntil(this.now().getTime() + backoff);
    }
  }
}
