// Lease-based leader election (client-go's tools/leaderelection with a LeaseLock): acquire a
// coordination.k8s.io/v1 Lease when it is free, expired or already ours; renew it every retry period;
// give up leadership when a renewal has not succeeded within the renew deadline.
import { findKind, isAlreadyExists, isNotFound, rfc3339Micro, type ResourceInfo } from '@kubelab/api';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { delayOn, realClock, type Clock, type DelayFn } from './clock.js';
import type { Logger } from './logger.js';
import type { RestClient } from './rest.js';

/** What leader election needs from the API: get (undefined if absent), create and update one Lease. */
export interface LeaseClient {
  get(name: string): Promise<Lease | undefined>;
  /** Fails with AlreadyExists if the lease exists. */
  create(lease: Lease): Promise<Lease>;
  /** Fails with Conflict if metadata.resourceVersion is stale. */
  update(lease: Lease): Promise<Lease>;
}

export interface LeaderCallbacks {
  /** Called when this candidate becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading(): void;
  /** Called whenever the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionOptions {
  lease: LeaseClient;
  leaseName: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the holder when stop() is called while leading, so another candidate takes over at once. */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  delay?: DelayFn;
  /** Jitter source for the acquire retry period, in [0,1). */
  random?: () => number;
  logger?: Logger;
}

/** client-go's JitterFactor for the acquire loop. */
const JITTER_FACTOR = 1.2;

export class LeaderElector {
  readonly identity: string;
  private readonly lease: LeaseClient;
  private readonly leaseName: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly callbacks: LeaderCallbacks;
  private readonly clock: Clock;
  private readonly delay: DelayFn;
  private readonly random: () => number;
  private readonly log?: Logger;
  private observed?: Lease;
  private reportedLeader = '';
  private leading = false;
  private readonly stopController = new AbortController();

  constructor(opts: LeaderElectionOptions) {
    this.lease = opts.lease;
    this.leaseName = opts.leaseName;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.releaseOnCancel = opts.releaseOnCancel ?? false;
    this.callbacks = opts.callbacks;
    this.clock = opts.clock ?? realClock;
    this.delay = opts.delay ?? delayOn(this.clock);
    this.random = opts.random ?? Math.random;
    this.log = opts.logger;
    if (!this.identity) throw new Error('Lock identity is empty');
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (this.retryPeriodMs < 1) throw new Error('retryPeriod must be greater than zero');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder identity last observed on the lease. */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns until leader, leads until a renewal fails or stop() is called, then returns.
   * Like client-go's Run, it does not campaign again: callers usually exit the process.
   */
  async run(): Promise<void> {
    const stop = this.stopController.signal;
    if (!(await this.acquire(stop))) return;
    const leadership = new AbortController();
    this.leading = true;
    this.log?.info?.({ identity: this.identity, lease: this.leaseName }, 'Successfully acquired lease');
    void Promise.resolve()
      .then(() => this.callbacks.onStartedLeading(leadership.signal))
      .catch((err) => this.log?.error?.({ err }, 'onStartedLeading failed'));
    try {
      await this.renewLoop(stop);
    } finally {
      this.leading = false;
      leadership.abort();
      if (stop.aborted && this.releaseOnCancel) await this.release();
      this.callbacks.onStoppedLeading();
    }
  }

  /** Stops campaigning or leading; run() then returns (releasing the lease if releaseOnCancel). */
  stop(): void {
    this.stopController.abort();
  }

  private async acquire(stop: AbortSignal): Promise<boolean> {
    while (!stop.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await this.delay(this.retryPeriodMs * (1 + JITTER_FACTOR * this.random()), stop);
    }
    return false;
  }

  /** Renews every retry period; returns when a renewal missed the deadline or on stop. */
  private async renewLoop(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!stop.aborted) {
        if (await this.tryAcquireOrRenew()) {
          renewed = true;
          break;
        }
        if (this.clock.now() >= deadline) break;
        await this.delay(Math.min(this.retryPeriodMs, Math.max(0, deadline - this.clock.now())), stop);
      }
      if (stop.aborted) return;
      if (!renewed) {
        this.log?.info?.({ identity: this.identity, lease: this.leaseName }, 'Failed to renew lease');
        return;
      }
      await this.delay(this.retryPeriodMs, stop);
    }
  }

  /** One attempt: take the lease if free, expired or ours; true if we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const nowTime = rfc3339Micro(now);
    const leaseDurationSeconds = Math.round(this.leaseDurationMs / 1000);
    let current: Lease | undefined;
    try {
      current = await this.lease.get(this.leaseName);
    } catch (err) {
      if (!isNotFound(err)) {
        this.log?.error?.({ err, lease: this.leaseName }, 'Error retrieving lease');
        return false;
      }
    }
    if (!current) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.leaseName },
        spec: { holderIdentity: this.identity, leaseDurationSeconds, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: 0 },
      };
      try {
        this.setObserved(await this.lease.create(lease));
        return true;
      } catch (err) {
        if (!isAlreadyExists(err)) this.log?.error?.({ err, lease: this.leaseName }, 'Error initially creating lease');
        return false;
      }
    }
    this.setObserved(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const ours = holder === this.identity;
    if (holder && !ours && !this.expired(current, now)) return false;

    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds,
        renewTime: nowTime,
        acquireTime: ours ? spec.acquireTime ?? nowTime : nowTime,
        leaseTransitions: ours ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      this.setObserved(await this.lease.update(next));
      return true;
    } catch (err) {
      this.log?.info?.({ err: (err as Error).message, lease: this.leaseName }, 'Failed to update lease');
      return false;
    }
  }

  private expired(lease: Lease, now: number): boolean {
    const renew = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
    if (Number.isNaN(renew)) return true;
    return renew + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 < now;
  }

  private setObserved(lease: Lease): void {
    this.observed = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try {
        this.callbacks.onNewLeader?.(holder);
      } catch (err) {
        this.log?.error?.({ err }, 'onNewLeader failed');
      }
    }
  }

  /** Clears the holder if we still hold the lease, so others need not wait for it to expire. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const nowTime = rfc3339Micro(this.clock.now());
    try {
      this.observed = await this.lease.update({
        ...lease,
        spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      });
    } catch (err) {
      this.log?.error?.({ err, lease: this.leaseName }, 'Failed to release lease');
    }
  }
}

const LEASES: ResourceInfo | undefined = findKind('coordination.k8s.io/v1', 'Lease');

/** A LeaseClient over the REST API for Leases in `namespace`. */
export function leaseClientFor(client: RestClient, namespace: string): LeaseClient {
  if (!LEASES) throw new Error('coordination.k8s.io/v1 Lease is not in the resource table');
  const rc = client.resource<Lease & { metadata: NonNullable<Lease['metadata']> }>(LEASES, namespace);
  return {
    async get(name) {
      try {
        return await rc.get(name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease) => rc.create({ ...lease, metadata: { ...lease.metadata, namespace } }),
    update: (lease) => rc.update({ ...lease, metadata: { ...lease.metadata!, namespace } }),
  };
}
