import { describe, expect, it } from 'vitest';
import { alreadyExists, conflict, OPTIMISTIC_LOCK_MESSAGE } from '@kubelab/api';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { delayOn, FakeClock } from './clock.js';
import { rfc3339Micro } from '@kubelab/api';
import { LeaderElector, type LeaseClient } from './leader-election.js';

const GR = { group: 'coordination.k8s.io', resource: 'leases' };

/** One Lease in memory with resourceVersion checks, as the apiserver does them. */
class FakeLeases implements LeaseClient {
  lease?: Lease;
  private rv = 0;
  /** Makes every update fail with a Conflict, as if another writer always got in first. */
  conflictAll = false;

  async get(): Promise<Lease | undefined> {
    return this.lease && structuredClone(this.lease);
  }
  async create(l: Lease): Promise<Lease> {
    if (this.lease) throw alreadyExists(GR, l.metadata!.name!);
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async update(l: Lease): Promise<Lease> {
    if (this.conflictAll || !this.lease || l.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
      throw conflict(GR, l.metadata!.name!, OPTIMISTIC_LOCK_MESSAGE);
    }
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

function candidate(identity: string, leases: LeaseClient, clock: FakeClock, extra: { releaseOnCancel?: boolean } = {}) {
  const events: string[] = [];
  let leaderSignal: AbortSignal | undefined;
  const elector = new LeaderElector({
    lease: leases,
    leaseName: 'kube-scheduler',
    identity,
    clock,
    delay: delayOn(clock),
    random: () => 0,
    releaseOnCancel: extra.releaseOnCancel,
    callbacks: {
      onStartedLeading: (signal) => {
        leaderSignal = signal;
        events.push('started');
      },
      onStoppedLeading: () => events.push('stopped'),
      onNewLeader: (id) => events.push(`leader ${id}`),
    },
  });
  return { elector, events, signal: () => leaderSignal };
}

describe('LeaderElector', () => {
  it('creates an absent lease and holds it', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate('a', leases, clock);
    expect(await a.elector.tryAcquireOrRenew()).toBe(true);
    const now = rfc3339Micro(clock.now());
    expect(now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(leases.lease?.spec).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 });
    expect(a.events).toEqual(['leader a']);
  });

  it('leads and renews every retry period, keeping acquireTime', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate('a', leases, clock);
    const run = a.elector.run();
    await clock.step(0);
    expect(a.events).toEqual(['leader a', 'started']);
    expect(a.elector.isLeader()).toBe(true);
    const acquired = leases.lease!.spec!.acquireTime;
    await clock.step(2000);
    expect(leases.lease!.spec!.renewTime).toBe(rfc3339Micro(clock.now()));
    expect(leases.lease!.spec!.acquireTime).toBe(acquired);
    await clock.step(60_000);
    expect(a.elector.isLeader()).toBe(true);
    a.elector.stop();
    await clock.step(0);
    await run;
    expect(a.events).toEqual(['leader a', 'started', 'stopped']);
    expect(a.signal()?.aborted).toBe(true);
    expect(leases.lease!.spec!.holderIdentity).toBe('a'); // not released without releaseOnCancel
  });

  it('waits while another holder is live and takes over once the lease expires', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const t0 = clock.now();
    const a = candidate('a', leases, clock);
    expect(await a.elector.tryAcquireOrRenew()).toBe(true);
    const b = candidate('b', leases, clock);
    const run = b.elector.run();
    await clock.step(14_000);
    expect(b.events).toEqual(['leader a']);
    expect(leases.lease!.spec!.holderIdentity).toBe('a');
    await clock.step(4_000); // renewTime + 15s is now in the past; b retries every 2s
    expect(b.events).toEqual(['leader a', 'leader b', 'started']);
    expect(leases.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, acquireTime: rfc3339Micro(t0 + 16_000) });
    b.elector.stop();
    await clock.step(0);
    await run;
  });

  it('stops leading when renewals keep failing on conflict past the renew deadline', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate('a', leases, clock);
    let finished = false;
    const run = a.elector.run().then(() => (finished = true));
    await clock.step(0);
    expect(a.events).toEqual(['leader a', 'started']);
    leases.conflictAll = true;
    await clock.step(2000 + 8000);
    expect(finished).toBe(false); // still within the 10s renew deadline
    await clock.step(2000);
    await run;
    expect(a.events).toEqual(['leader a', 'started', 'stopped']);
    expect(a.signal()?.aborted).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
  });

  it('loses the race when another candidate created the lease first', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate('a', leases, clock);
    const b = candidate('b', leases, clock);
    const [ra, rb] = await Promise.all([a.elector.tryAcquireOrRenew(), b.elector.tryAcquireOrRenew()]);
    expect([ra, rb]).toEqual([true, false]);
    expect(leases.lease!.spec!.holderIdentity).toBe('a');
  });

  it('releases the lease on stop with releaseOnCancel so another candidate acquires at once', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = candidate('a', leases, clock, { releaseOnCancel: true });
    const run = a.elector.run();
    await clock.step(0);
    a.elector.stop();
    await clock.step(0);
    await run;
    expect(leases.lease!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    const b = candidate('b', leases, clock);
    expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    expect(leases.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('validates its timing options', () => {
    const leases = new FakeLeases();
    const cb = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    expect(() => new LeaderElector({ lease: leases, leaseName: 'x', identity: 'a', callbacks: cb, leaseDurationMs: 10_000 })).toThrow(
      'leaseDuration must be greater than renewDeadline',
    );
    expect(() => new LeaderElector({ lease: leases, leaseName: 'x', identity: '', callbacks: cb })).toThrow('Lock identity is empty');
  });
});
