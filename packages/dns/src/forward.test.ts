// The forwarder and its cache against stub upstreams on 127.0.0.1 (CoreDNS's forward and cache tests).
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';
import { FakeClock } from '@kubelab/client';
import { Forwarder, isSelfUpstream, parseResolvConf } from './forward.js';

const { Packet } = dns2;

describe('parseResolvConf', () => {
  it('reads nameservers, skipping comments, options and bad addresses', () => {
    const text = [
      '# generated',
      'search default.svc.cluster.local svc.cluster.local',
      'nameserver 192.0.2.1',
      'nameserver fe80::1%eth0',
      'nameserver not-an-ip',
      '; nameserver 192.0.2.9',
      'nameserver 127.0.0.1:5353',
      'nameserver [::1]:5354',
      'options ndots:5',
    ].join('\n');
    expect(parseResolvConf(text)).toEqual([
      { address: '192.0.2.1', port: 53 },
      { address: 'fe80::1', port: 53 },
      { address: '127.0.0.1', port: 5353 },
      { address: '::1', port: 5354 },
    ]);
    expect(parseResolvConf(Array.from({ length: 20 }, (_, i) => `nameserver 192.0.2.${i}`).join('\n'))).toHaveLength(15);
  });
});

describe('isSelfUpstream', () => {
  it('spots resolv.conf entries that are this server, so forwarding cannot loop', () => {
    expect(isSelfUpstream({ address: '127.0.0.53', port: 53 }, '0.0.0.0', 53, [])).toBe(true);
    expect(isSelfUpstream({ address: '10.244.0.2', port: 53 }, '0.0.0.0', 53, ['10.244.0.2'])).toBe(true);
    expect(isSelfUpstream({ address: '127.0.0.1', port: 5353 }, '127.0.0.1', 5353, [])).toBe(true);
    expect(isSelfUpstream({ address: '127.0.0.1', port: 5353 }, '127.0.0.1', 5354, [])).toBe(false);
    expect(isSelfUpstream({ address: '127.0.0.53', port: 53 }, '10.244.0.2', 53, ['10.244.0.2'])).toBe(false);
    expect(isSelfUpstream({ address: '192.0.2.1', port: 53 }, '0.0.0.0', 53, ['10.244.0.2'])).toBe(false);
  });
});

/** A UDP upstream answering `name A` with 192.0.2.1 (TTL 300), NXDOMAIN with an SOA for "nx.test", or never (`silent`). */
async function stub(opts: { silent?: boolean } = {}): Promise<{ port: number; queries: () => number; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  let n = 0;
  socket.on('message', (msg, rinfo) => {
    n++;
    if (opts.silent) return;
    const req = Packet.parse(msg);
    const reply = Packet.createResponseFromRequest(req);
    const q = req.questions[0]!;
    if (q.name === 'nx.test') {
      reply.header.rcode = 3;
      reply.authorities.push({
        name: 'test', type: Packet.TYPE.SOA, class: 1, ttl: 3600, primary: 'ns.test', admin: 'h.test',
        serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 10,
      } as dns2.Packet.Resource);
    } else reply.answers.push({ name: q.name, type: Packet.TYPE.A, class: 1, ttl: 300, address: '192.0.2.1' } as dns2.Packet.Resource);
    socket.send(reply.toBuffer(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: (socket.address() as AddressInfo).port, queries: () => n, close: () => socket.close() };
}

function query(name: string): dns2.Packet {
  const p = new Packet();
  p.header = new Packet.Header({ id: 4242, rd: 1 });
  p.questions = [new Packet.Question(name, Packet.TYPE.A, 1)];
  return p;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('Forwarder', () => {
  it('relays the upstream answer with the client ID, caps and caches it, and expires it', async () => {
    const up = await stub();
    cleanups.push(up.close);
    const clock = new FakeClock();
    const events: string[] = [];
    const f = new Forwarder({ upstreams: [{ address: '127.0.0.1', port: up.port }], timeoutMs: 1000, deadlineMs: 2000, maxConcurrent: 10, cacheTTL: 30, clock, onCache: (e) => events.push(e) });
    const first = Packet.parse((await f.forward(query('a.test'), 'udp')).message);
    expect(first.header.id).toBe(4242);
    expect(first.answers).toMatchObject([{ address: '192.0.2.1', ttl: 30 }]);
    await clock.step(10_000);
    const second = await f.forward(query('A.TEST'), 'udp');
    expect(second.plugin).toBe('cache');
    expect(Packet.parse(second.message).answers).toMatchObject([{ name: 'A.TEST', ttl: 20 }]);
    expect(up.queries()).toBe(1);
    await clock.step(20_000);
    expect((await f.forward(query('a.test'), 'udp')).plugin).toBe('forward');
    expect(up.queries()).toBe(2);
    expect(events).toEqual(['miss', 'success', 'miss']);
  });

  it('caches a denial for the SOA minimum, capped', async () => {
    const up = await stub();
    cleanups.push(up.close);
    const clock = new FakeClock();
    const f = new Forwarder({ upstreams: [{ address: '127.0.0.1', port: up.port }], timeoutMs: 1000, deadlineMs: 2000, maxConcurrent: 10, cacheTTL: 30, clock });
    expect((await f.forward(query('nx.test'), 'udp')).rcode).toBe(3);
    expect(f.cacheSize('denial')).toBe(1);
    await clock.step(9_000);
    expect((await f.forward(query('nx.test'), 'udp')).plugin).toBe('cache');
    await clock.step(2_000);
    expect((await f.forward(query('nx.test'), 'udp')).plugin).toBe('forward');
  });

  it('tries the next upstream when one does not answer, and SERVFAILs when none does', async () => {
    const silent = await stub({ silent: true });
    const good = await stub();
    cleanups.push(silent.close, good.close);
    const upstreams = [
      { address: '127.0.0.1', port: silent.port },
      { address: '127.0.0.1', port: good.port },
    ];
    // random(n) = n - 1 leaves the shuffle's order as given: the silent upstream first.
    const f = new Forwarder({ upstreams, timeoutMs: 100, deadlineMs: 1000, maxConcurrent: 10, cacheTTL: 0, random: (n) => n - 1 });
    const r = await f.forward(query('b.test'), 'udp');
    expect(r.rcode).toBe(0);
    expect(silent.queries()).toBe(1);
    const none = new Forwarder({ upstreams: [upstreams[0]!], timeoutMs: 100, deadlineMs: 1000, maxConcurrent: 10, cacheTTL: 0 });
    const failed = await none.forward(query('c.test'), 'udp');
    expect(failed.rcode).toBe(2);
    expect(Packet.parse(failed.message).header.id).toBe(4242);
  });

  it('refuses queries beyond max_concurrent', async () => {
    const silent = await stub({ silent: true });
    cleanups.push(silent.close);
    const f = new Forwarder({ upstreams: [{ address: '127.0.0.1', port: silent.port }], timeoutMs: 200, deadlineMs: 200, maxConcurrent: 1, cacheTTL: 0 });
    const [a, b] = await Promise.all([f.forward(query('d.test'), 'udp'), f.forward(query('e.test'), 'udp')]);
    expect([a.rcode, b.rcode].sort()).toEqual([2, 5]);
  });
});
