import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { defaultControllerRateLimiter, ItemExponentialFailureRateLimiter, TokenBucket } from './rate-limiter.js';
import { runWorkers, WorkQueue } from './workqueue.js';

const noDelay = () => new ItemExponentialFailureRateLimiter<string>(0, 0);

describe('WorkQueue', () => {
  it('never holds a key twice', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('re-queues a key added while it is processed only after done, and never hands it out twice at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // not queued while processing
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flushMicrotasks(2);
    expect(second).toBeUndefined();
    q.done('a');
    await flushMicrotasks(2);
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('done without a re-add does not requeue', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('hands a new key to a waiting getter', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add('x');
    expect(await p).toBe('x');
    q.add('x'); // processing: stays dirty, not queued
    expect(q.len()).toBe(0);
  });

  it('addAfter delays a key and the earlier time wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 2000);
    await clock.step(299);
    expect(q.len()).toBe(0);
    await clock.step(1);
    expect(q.len()).toBe(1);
    await clock.step(5000);
    expect(q.len()).toBe(1); // the later timers were dropped or deduplicated
  });

  it('addRateLimited backs off per item, doubling from 5ms; forget resets it', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.step(1);
      delays.push(clock.now() - start);
      expect(await q.get()).toBe('a');
      q.done('a');
    }
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(q.numRequeues('a')).toBe(5);
    expect(q.numRequeues('b')).toBe(0);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('caps the per-item backoff at 1000s', () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 40; i++) last = rl.when('k');
    expect(last).toBe(1_000_000);
  });

  it('the default limiter also applies an overall 10 qps / 100 burst bucket', () => {
    const clock = new FakeClock();
    const rl = defaultControllerRateLimiter<string>(clock);
    for (let i = 0; i < 100; i++) expect(rl.when(`k${i}`)).toBe(5);
    expect(rl.when('k100')).toBe(100);
    expect(rl.when('k101')).toBe(200);
  });

  it('token bucket refills at qps and disables with qps 0', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(10, 2, clock);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 100]);
    expect(new TokenBucket(0, 0, clock).reserve()).toBe(0);
  });

  it('shutDown ends waiting getters, still hands out queued keys, and ignores new ones', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();

    const q2 = new WorkQueue({ clock: new FakeClock() });
    q2.add('a');
    q2.shutDown();
    q2.add('b');
    q2.addAfter('c', 10);
    expect(await q2.get()).toBe('a');
    expect(await q2.get()).toBeUndefined();
  });

  it('shutDownWithDrain waits for keys being processed', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => (drained = true));
    await flushMicrotasks(2);
    expect(drained).toBe(false);
    q.done('a');
    await p;
    expect(drained).toBe(true);
  });
});

describe('runWorkers', () => {
  it('forgets a key on success and retries it with a rate limit on error', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock(), rateLimiter: noDelay() });
    const calls: string[] = [];
    let failures = 2;
    const done = runWorkers(q, 2, async (key) => {
      calls.push(key);
      if (failures-- > 0) throw new Error('boom');
    });
    q.add('ns/a');
    await flushMicrotasks();
    expect(calls).toEqual(['ns/a', 'ns/a', 'ns/a']);
    expect(q.numRequeues('ns/a')).toBe(0);
    q.shutDown();
    await done;
  });

  it('drops a key after maxRetries', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock(), rateLimiter: noDelay() });
    let calls = 0;
    const errors: unknown[] = [];
    const done = runWorkers(
      q,
      1,
      async () => {
        calls++;
        throw new Error('always');
      },
      {
        maxRetries: 3,
        logger: { error: (obj) => errors.push(obj) },
      },
    );
    q.add('k');
    await flushMicrotasks();
    expect(calls).toBe(4); // first try + 3 retries
    expect(errors).toHaveLength(1);
    expect(q.len()).toBe(0);
    expect(q.numRequeues('k')).toBe(0);
    q.shutDown();
    await done;
  });

  it('never runs one key on two workers at once', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock(), rateLimiter: noDelay() });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const done = runWorkers(q, 4, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    for (let i = 0; i < 5; i++) {
      q.add('same');
      await new Promise((r) => setImmediate(r));
    }
    await flushMicrotasks();
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    q.shutDown();
    await done;
  });
});
