import { describe, expect, it } from 'vitest';
import { FakeClock } from '@kubelab/client';
import { BoundedFrequencyRunner } from './runner.js';

function setup() {
  const clock = new FakeClock();
  const runs: number[] = [];
  const runner = new BoundedFrequencyRunner({ fn: async () => void runs.push(clock.now()), minIntervalMs: 1_000, maxIntervalMs: 30_000, clock });
  return { clock, runs, runner, t0: clock.now() };
}

describe('BoundedFrequencyRunner', () => {
  it('runs at once, then coalesces requests to at most one per minInterval, and at least every maxInterval', async () => {
    const { clock, runs, runner, t0 } = setup();
    runner.loop();
    await clock.step(0);
    expect(runs).toEqual([t0]);
    runner.run();
    runner.run();
    await clock.step(999);
    expect(runs).toHaveLength(1);
    await clock.step(1);
    expect(runs).toEqual([t0, t0 + 1_000]);
    await clock.step(30_000);
    expect(runs).toEqual([t0, t0 + 1_000, t0 + 31_000]);
    runner.stop();
    runner.run();
    await clock.step(60_000);
    expect(runs).toHaveLength(3);
  });

  it('retryAfter brings the next run forward, never before minInterval', async () => {
    const { clock, runs, runner, t0 } = setup();
    runner.loop();
    await clock.step(0);
    runner.retryAfter(5_000);
    await clock.step(5_000);
    expect(runs).toEqual([t0, t0 + 5_000]);
    runner.retryAfter(0);
    await clock.step(0);
    expect(runs).toHaveLength(2);
    await clock.step(1_000);
    expect(runs).toEqual([t0, t0 + 5_000, t0 + 6_000]);
    runner.stop();
  });
});
