import { describe, expect, it } from 'vitest';
import dns2 from 'dns2';
import { RRType } from './resolver.js';
import { decodeQuery, encodeMessage } from './wire.js';

const { Packet } = dns2;

function reply(records: { answers?: object[]; authorities?: object[]; additionals?: object[] }, header: object = {}) {
  return {
    header: { id: 4242, qr: 1, aa: 1, rd: 1, rcode: 0, ...header },
    questions: [{ name: 'web.default.svc.cluster.local', type: RRType.A, class: 1 }],
    answers: records.answers ?? [],
    authorities: records.authorities ?? [],
    additionals: records.additionals ?? [],
  } as Parameters<typeof encodeMessage>[0];
}

describe('encodeMessage', () => {
  it('encodes every record type the resolver answers with so that a DNS parser reads them back', () => {
    const msg = reply({
      answers: [
        { name: 'web.default.svc.cluster.local', type: RRType.A, class: 1, ttl: 30, address: '10.96.0.12' },
        { name: 'web.default.svc.cluster.local', type: RRType.AAAA, class: 1, ttl: 30, address: 'fd00:10:96::c' },
        { name: 'ext.default.svc.cluster.local', type: RRType.CNAME, class: 1, ttl: 30, domain: 'www.example.com' },
        { name: '12.0.96.10.in-addr.arpa', type: RRType.PTR, class: 1, ttl: 30, domain: 'web.default.svc.cluster.local' },
        { name: '_http._tcp.web.default.svc.cluster.local', type: RRType.SRV, class: 1, ttl: 30, priority: 0, weight: 33, port: 8080, target: '10-244-1-5.web.default.svc.cluster.local' },
        { name: 'cluster.local', type: RRType.NS, class: 1, ttl: 30, ns: 'ns.dns.cluster.local' },
        { name: 'dns-version.cluster.local', type: RRType.TXT, class: 1, ttl: 28800, data: ['1.1.0'] },
      ],
      authorities: [
        { name: 'cluster.local', type: RRType.SOA, class: 1, ttl: 30, primary: 'ns.dns.cluster.local', admin: 'hostmaster.cluster.local', serial: 1764730000, refresh: 7200, retry: 1800, expiration: 86400, minimum: 30 },
      ],
      additionals: [{ name: '', type: RRType.OPT, class: 1232, ttl: 0, rdata: [] }],
    });
    const wire = encodeMessage(msg)!;
    const parsed = Packet.parse(wire);
    expect(parsed.header).toMatchObject({ id: 4242, qr: 1, aa: 1, rd: 1, tc: 0, rcode: 0, qdcount: 1, ancount: 7, nscount: 1, arcount: 1 });
    expect(parsed.questions).toEqual([{ name: 'web.default.svc.cluster.local', type: RRType.A, class: 1 }]);
    expect(parsed.answers).toMatchObject(msg.answers.map((a) => ({ ...a })));
    expect(parsed.authorities).toMatchObject([...msg.authorities]);
    expect(parsed.additionals).toMatchObject([{ type: RRType.OPT, class: 1232, version: 0 }]);
    // The owner names share the question's suffix: compressed, the message is far smaller than spelled out.
    expect(wire.length).toBeLessThan(400);
  });

  it('sets the truncation bit and the rcode in the header', () => {
    const parsed = Packet.parse(encodeMessage(reply({}, { tc: 1, rcode: 3, aa: 0 }))!);
    expect(parsed.header).toMatchObject({ tc: 1, rcode: 3, aa: 0, ancount: 0 });
  });

  it('declines what it does not encode, for dns2 to encode instead', () => {
    expect(encodeMessage(reply({ answers: [{ name: 'x.cluster.local', type: RRType.MX, class: 1, ttl: 30, exchange: 'mx', priority: 1 }] }))).toBeUndefined();
    expect(encodeMessage(reply({}, { rcode: 16 }))).toBeUndefined();
    expect(encodeMessage(reply({ additionals: [{ name: '', type: RRType.OPT, class: 1232, ttl: 0, rdata: [{ code: 10 }] }] }))).toBeUndefined();
    expect(encodeMessage(reply({ answers: [{ name: 'x.cluster.local', type: RRType.A, class: 1, ttl: 30, address: 'not-an-ip' }] }))).toBeUndefined();
  });
});

describe('decodeQuery', () => {
  function query(name: string, type: number, edns?: { size: number; version?: number }) {
    const q = new Packet();
    q.header = Object.assign(new Packet.Header({ id: 777, rd: 1 }), { cd: 1 });
    q.questions = [new Packet.Question(name, type, 1)];
    if (edns) q.additionals = [Object.assign(Packet.Resource.EDNS([]), { class: edns.size, ttl: (edns.version ?? 0) << 16 })];
    return q.toBuffer();
  }

  it('reads a plain query and an EDNS0 query as dns2 does', () => {
    for (const wire of [query('Web.Default.svc.cluster.local', RRType.A), query('_http._tcp.web.default.svc.cluster.local', RRType.SRV, { size: 1232, version: 1 })]) {
      const fast = decodeQuery(wire)!;
      const slow = Packet.parse(wire);
      expect(fast.header).toEqual({ ...slow.header });
      expect(fast.questions).toEqual(slow.questions);
      expect(fast.additionals).toMatchObject(slow.additionals.map((a) => ({ ...a })));
    }
  });

  it('leaves other messages to dns2', () => {
    // An OPT carrying an option (a 2-byte COOKIE): its RDLENGTH 6, then code 10, length 2, data.
    const plain = query('web.default.svc.cluster.local', RRType.A, { size: 1232 });
    const withOption = Buffer.concat([plain.subarray(0, plain.length - 2), Buffer.from([0, 6, 0, 10, 0, 2, 0xab, 0xcd])]);
    expect(Packet.parse(withOption).additionals).toHaveLength(1);
    expect(decodeQuery(withOption)).toBeUndefined();
    const two = new Packet();
    two.questions = [new Packet.Question('a.cluster.local', RRType.A, 1), new Packet.Question('b.cluster.local', RRType.A, 1)];
    expect(decodeQuery(two.toBuffer())).toBeUndefined();
    const truncated = query('web.default.svc.cluster.local', RRType.A);
    expect(decodeQuery(truncated.subarray(0, truncated.length - 3))).toBeUndefined();
    expect(decodeQuery(Buffer.alloc(5))).toBeUndefined();
  });
});
