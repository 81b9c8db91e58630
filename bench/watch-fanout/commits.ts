// When each revision became visible in etcd, seen by an etcd watch of its own (in the bench's main
// process, which idles while the children work): the commit time a delivery is measured from when
// the create path's own latency is left out (upstream's watch latency SLI starts at the commit).
import { Etcd3, type Watcher } from 'etcd3';
import { nowMs } from './protocol.js';

export class CommitObserver {
  private readonly seen = new Map<number, number>();

  private constructor(
    private readonly client: Etcd3,
    private readonly watchers: Watcher[],
  ) {}

  /** Watches every key under each prefix (etcd keys, e.g. '/registry/pods/') from now on. */
  static async start(endpoint: string, prefixes: string[]): Promise<CommitObserver> {
    const client = new Etcd3({ hosts: endpoint });
    const watchers = await Promise.all(prefixes.map((p) => client.watch().prefix(p).create()));
    const observer = new CommitObserver(client, watchers);
    for (const w of watchers) {
      w.on('data', (res) => {
        const at = nowMs();
        for (const ev of res.events) {
          const rev = Number(ev.kv.mod_revision);
          if (!observer.seen.has(rev)) observer.seen.set(rev, at);
        }
      });
    }
    return observer;
  }

  /** When revision was seen committed (ms since the epoch), if it was. */
  at(revision: number): number | undefined {
    return this.seen.get(revision);
  }

  async close(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
    this.client.close();
  }
}
