import { describe, expect, it } from 'vitest';
import { CoalescedReads } from './util.js';

/** A fetch whose runs are ended by hand: each run returns `<key>#<run number>`. */
function manualFetch() {
  const runs: { key: string; finish: () => void; fail: (err: Error) => void }[] = [];
  const fetch = (key: string) =>
    new Promise<string>((resolve, reject) => {
      const n = runs.length + 1;
      runs.push({ key, finish: () => resolve(`${key}#${n}`), fail: reject });
    });
  return { runs, fetch };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescedReads', () => {
  it('shares one run among the callers that ask before it starts, per key', async () => {
    const { runs, fetch } = manualFetch();
    const reads = new CoalescedReads(fetch);
    const a = reads.read('ns1');
    const b = reads.read('ns2');
    expect(runs.map((r) => r.key)).toEqual(['ns1', 'ns2']);
    runs[0]!.finish();
    runs[1]!.finish();
    expect(await a).toBe('ns1#1');
    expect(await b).toBe('ns2#2');
  });

  it('never answers a caller with a run that started before it asked', async () => {
    const { runs, fetch } = manualFetch();
    const reads = new CoalescedReads(fetch);
    const first = reads.read('ns');
    // These arrive while run 1 is in flight: they share run 2, which starts only when run 1 has ended.
    const second = reads.read('ns');
    const third = reads.read('ns');
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    expect(await first).toBe('ns#1');
    await tick();
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    expect(await second).toBe('ns#2');
    expect(await third).toBe('ns#2');
    // Nothing in flight: the next caller starts a run of its own.
    const fourth = reads.read('ns');
    expect(runs).toHaveLength(3);
    runs[2]!.finish();
    expect(await fourth).toBe('ns#3');
  });

  it('passes a failed run to its callers only, and the next caller reads again', async () => {
    const { runs, fetch } = manualFetch();
    const reads = new CoalescedReads(fetch);
    const first = reads.read('ns');
    const queued = reads.read('ns');
    runs[0]!.fail(new Error('etcd unavailable'));
    await expect(first).rejects.toThrow('etcd unavailable');
    await tick();
    runs[1]!.finish();
    expect(await queued).toBe('ns#2');
  });
});
