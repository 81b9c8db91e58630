// The resolver against the Kubernetes DNS-Based Service Discovery specification (kubernetes/dns
// docs/specification.md) and CoreDNS's kubernetes plugin tests (handler_test.go): one table of questions.
import { describe, expect, it } from 'vitest';
import type { corev1, discoveryv1 } from '@kubelab/api';
import { addressFromReverse, canonicalIP, RCode, resolve, RRType, type ClusterView, type Question, type Resolution, type ResolverOptions } from './resolver.js';

const services: corev1.Service[] = [
  {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      clusterIP: '10.96.0.20',
      clusterIPs: ['10.96.0.20'],
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  },
  { metadata: { name: 'v6', namespace: 'default' }, spec: { clusterIP: '2001:db8::1', clusterIPs: ['2001:db8::1'], ports: [{ port: 443 }] } },
  { metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } },
  { metadata: { name: 'empty', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] } },
  { metadata: { name: 'ext', namespace: 'other' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } },
  { metadata: { name: 'alias', namespace: 'other' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } },
  { metadata: { name: 'loop', namespace: 'other' }, spec: { type: 'ExternalName', externalName: 'loop.other.svc.cluster.local' } },
  { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
];

const slices: discoveryv1.EndpointSlice[] = [
  {
    metadata: { name: 'db-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.2.6'], hostname: 'db-1', conditions: { ready: true } },
      { addresses: ['10.244.3.7'], conditions: { ready: true } },
      { addresses: ['10.244.9.9'], hostname: 'db-2', conditions: { ready: false } },
    ],
  },
  {
    metadata: { name: 'web-xyz', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: true } }],
  },
  {
    metadata: { name: 'kube-dns-1', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
    addressType: 'IPv4',
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
    endpoints: [{ addresses: ['10.244.0.2'], conditions: { ready: true } }],
  },
];

const namespaces = new Set(['default', 'other', 'kube-system']);

function fakeView(synced = true): ClusterView {
  return {
    service: (ns, name) => services.find((s) => s.metadata!.namespace === ns && s.metadata!.name === name),
    servicesByClusterIP: (ip) => services.filter((s) => (s.spec?.clusterIPs ?? []).some((c) => canonicalIP(c) === ip)),
    endpointSlices: (ns, svc) => slices.filter((s) => s.metadata!.namespace === ns && s.metadata!.labels!['kubernetes.io/service-name'] === svc),
    endpointSlicesByIP: (ip) => slices.filter((s) => s.endpoints.some((e) => e.addresses.includes(ip))),
    namespaceExists: (ns) => namespaces.has(ns),
    podsByIP: (ip) => (ip === '10.244.1.5' ? [{ metadata: { name: 'db-0', namespace: 'default' } }] : []),
    hasSynced: () => synced,
    modified: () => 1700000000,
  };
}

const OPTS: ResolverOptions = { zone: 'cluster.local', ttl: 30, podMode: 'insecure', localIPs: ['10.244.0.2'] };
const TYPE_NAMES = Object.fromEntries(Object.entries(RRType).map(([k, v]) => [v, k])) as Record<number, string>;

function ask(name: string, type: keyof typeof RRType, opts: Partial<ResolverOptions> = {}, view = fakeView()): Resolution {
  const q: Question = { name, type: RRType[type], class: 1 };
  return resolve(q, view, { ...OPTS, ...opts });
}

/** An answer as `owner TYPE rdata` lines, easy to compare in a table. */
function show(r: Resolution): { rcode: string; answers: string[]; additional: string[]; authority: string[] } | 'forward' {
  if (r.action === 'forward') return 'forward';
  const line = (x: (typeof r.answers)[number]) => {
    const data =
      x.address ?? x.domain ?? x.ns ?? x.data?.join(' ') ?? (x.type === RRType.SRV ? `${x.priority} ${x.weight} ${x.port} ${x.target}` : `${x.primary} ${x.admin} ${x.minimum}`);
    return `${x.name} ${x.ttl} ${TYPE_NAMES[x.type]} ${data}`;
  };
  const rcode = Object.entries(RCode).find(([, v]) => v === r.rcode)![0];
  return { rcode, answers: r.answers.map(line), additional: r.additional.map(line), authority: r.authority.map(line) };
}

const SOA = 'cluster.local 30 SOA ns.dns.cluster.local hostmaster.cluster.local 30';
const nodata = { rcode: 'NOERROR', answers: [], additional: [], authority: [SOA] };
const nxdomain = { rcode: 'NXDOMAIN', answers: [], additional: [], authority: [SOA] };
const ok = (answers: string[], additional: string[] = []) => ({ rcode: 'NOERROR', answers, additional, authority: [] });

describe('resolve', () => {
  const cases: Array<[string, string, keyof typeof RRType, ReturnType<typeof show>]> = [
    // 2.2 schema version
    ['schema version', 'dns-version.cluster.local', 'TXT', ok(['dns-version.cluster.local 28800 TXT 1.1.0'])],
    // 2.3 ClusterIP services
    ['A of a ClusterIP service', 'web.default.svc.cluster.local', 'A', ok(['web.default.svc.cluster.local 30 A 10.96.0.20'])],
    ['trailing dot and upper case', 'WEB.Default.SVC.cluster.local.', 'A', ok(['WEB.Default.SVC.cluster.local 30 A 10.96.0.20'])],
    ['AAAA of an IPv4 service is NODATA', 'web.default.svc.cluster.local', 'AAAA', nodata],
    ['AAAA of an IPv6 service', 'v6.default.svc.cluster.local', 'AAAA', ok(['v6.default.svc.cluster.local 30 AAAA 2001:db8::1'])],
    ['TXT of a service is NODATA', 'web.default.svc.cluster.local', 'TXT', nodata],
    ['MX of a service is NODATA', 'web.default.svc.cluster.local', 'MX', nodata],
    ['ANY of a service is NODATA', 'web.default.svc.cluster.local', 'ANY', nodata],
    ['missing service', 'nope.default.svc.cluster.local', 'A', nxdomain],
    ['missing namespace', 'web.nope.svc.cluster.local', 'A', nxdomain],
    ['missing service for another type is NXDOMAIN too', 'nope.default.svc.cluster.local', 'TXT', nxdomain],
    ['wildcards are not served (as CoreDNS since 1.9)', '*.default.svc.cluster.local', 'A', nxdomain],
    ['too many labels', 'a.b.c.web.default.svc.cluster.local', 'A', nxdomain],
    ['neither svc nor pod', 'web.default.foo.cluster.local', 'A', nxdomain],
    ['SRV of a named port', '_http._tcp.web.default.svc.cluster.local', 'SRV', ok(['_http._tcp.web.default.svc.cluster.local 30 SRV 0 100 80 web.default.svc.cluster.local'], ['web.default.svc.cluster.local 30 A 10.96.0.20'])],
    ['SRV protocol is matched', '_dns._udp.web.default.svc.cluster.local', 'SRV', ok(['_dns._udp.web.default.svc.cluster.local 30 SRV 0 100 53 web.default.svc.cluster.local'], ['web.default.svc.cluster.local 30 A 10.96.0.20'])],
    ['SRV with the wrong protocol', '_http._udp.web.default.svc.cluster.local', 'SRV', nxdomain],
    ['SRV of an unknown port name', '_nope._tcp.web.default.svc.cluster.local', 'SRV', nxdomain],
    [
      'SRV of the service name lists every port',
      'web.default.svc.cluster.local',
      'SRV',
      ok(
        ['web.default.svc.cluster.local 30 SRV 0 50 80 web.default.svc.cluster.local', 'web.default.svc.cluster.local 30 SRV 0 50 53 web.default.svc.cluster.local'],
        ['web.default.svc.cluster.local 30 A 10.96.0.20'],
      ),
    ],
    ['an endpoint of a ClusterIP service by its dashed IP', '10-244-1-10.web.default.svc.cluster.local', 'A', ok(['10-244-1-10.web.default.svc.cluster.local 30 A 10.244.1.10'])],
    // 2.4 headless services
    [
      'headless A: every ready endpoint',
      'db.default.svc.cluster.local',
      'A',
      ok(['db.default.svc.cluster.local 30 A 10.244.1.5', 'db.default.svc.cluster.local 30 A 10.244.2.6', 'db.default.svc.cluster.local 30 A 10.244.3.7']),
    ],
    ['headless without ready endpoints is NXDOMAIN', 'empty.default.svc.cluster.local', 'A', nxdomain],
    ['a StatefulSet pod by hostname', 'db-1.db.default.svc.cluster.local', 'A', ok(['db-1.db.default.svc.cluster.local 30 A 10.244.2.6'])],
    ['an endpoint without hostname by dashed IP', '10-244-3-7.db.default.svc.cluster.local', 'A', ok(['10-244-3-7.db.default.svc.cluster.local 30 A 10.244.3.7'])],
    ['a not-ready endpoint has no name', 'db-2.db.default.svc.cluster.local', 'A', nxdomain],
    [
      'headless SRV: one target per ready endpoint',
      '_pg._tcp.db.default.svc.cluster.local',
      'SRV',
      ok(
        [
          '_pg._tcp.db.default.svc.cluster.local 30 SRV 0 33 5432 db-0.db.default.svc.cluster.local',
          '_pg._tcp.db.default.svc.cluster.local 30 SRV 0 33 5432 db-1.db.default.svc.cluster.local',
          '_pg._tcp.db.default.svc.cluster.local 30 SRV 0 33 5432 10-244-3-7.db.default.svc.cluster.local',
        ],
        ['db-0.db.default.svc.cluster.local 30 A 10.244.1.5', 'db-1.db.default.svc.cluster.local 30 A 10.244.2.6', '10-244-3-7.db.default.svc.cluster.local 30 A 10.244.3.7'],
      ),
    ],
    // 2.5 ExternalName
    ['ExternalName CNAME query', 'ext.other.svc.cluster.local', 'CNAME', ok(['ext.other.svc.cluster.local 30 CNAME www.example.com'])],
    ['ExternalName A: the CNAME, the target left to the forwarder', 'ext.other.svc.cluster.local', 'A', ok(['ext.other.svc.cluster.local 30 CNAME www.example.com'])],
    ['ExternalName to a cluster name is followed', 'alias.other.svc.cluster.local', 'A', ok(['alias.other.svc.cluster.local 30 CNAME web.default.svc.cluster.local', 'web.default.svc.cluster.local 30 A 10.96.0.20'])],
    ['ExternalName pointing at itself answers nothing', 'loop.other.svc.cluster.local', 'A', nodata],
    ['ExternalName has no SRV', '_http._tcp.ext.other.svc.cluster.local', 'SRV', nxdomain],
    ['CNAME of a ClusterIP service is NODATA', 'web.default.svc.cluster.local', 'CNAME', nodata],
    // 2.6 pods (`pods insecure`)
    ['pod A record', '10-244-7-7.default.pod.cluster.local', 'A', ok(['10-244-7-7.default.pod.cluster.local 30 A 10.244.7.7'])],
    ['pod AAAA record', '2001-db8--7.default.pod.cluster.local', 'AAAA', ok(['2001-db8--7.default.pod.cluster.local 30 AAAA 2001:db8::7'])],
    ['pod in a missing namespace', '10-244-7-7.nope.pod.cluster.local', 'A', nxdomain],
    ['malformed pod IP', '10-244-7-300.default.pod.cluster.local', 'A', nxdomain],
    // empty non-terminals and the apex
    ['a namespace name exists without records', 'default.svc.cluster.local', 'A', nodata],
    ['a missing namespace name', 'nope.svc.cluster.local', 'A', nxdomain],
    ['svc.<zone>', 'svc.cluster.local', 'A', nodata],
    ['apex A', 'cluster.local', 'A', nodata],
    ['apex SOA', 'cluster.local', 'SOA', ok([SOA])],
    ['apex NS names the kube-dns service', 'cluster.local', 'NS', ok(['cluster.local 30 NS kube-dns.kube-system.svc.cluster.local'], ['kube-dns.kube-system.svc.cluster.local 30 A 10.96.0.10'])],
    ['zone transfers are refused', 'cluster.local', 'AXFR', { rcode: 'REFUSED', answers: [], additional: [], authority: [] }],
    // reverse (PTR) and `fallthrough in-addr.arpa ip6.arpa`
    ['PTR of a cluster IP', '20.0.96.10.in-addr.arpa', 'PTR', ok(['20.0.96.10.in-addr.arpa 30 PTR web.default.svc.cluster.local'])],
    ['PTR of a headless endpoint', '6.2.244.10.in-addr.arpa', 'PTR', ok(['6.2.244.10.in-addr.arpa 30 PTR db-1.db.default.svc.cluster.local'])],
    ['PTR of an endpoint without hostname', '7.3.244.10.in-addr.arpa', 'PTR', ok(['7.3.244.10.in-addr.arpa 30 PTR 10-244-3-7.db.default.svc.cluster.local'])],
    [
      'PTR of an IPv6 cluster IP',
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
      'PTR',
      ok(['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa 30 PTR v6.default.svc.cluster.local']),
    ],
    ['PTR of an unknown IP falls through', '1.1.168.192.in-addr.arpa', 'PTR', 'forward'],
    ['A under in-addr.arpa falls through', '20.0.96.10.in-addr.arpa', 'A', 'forward'],
    // outside the zone
    ['a name outside the zone', 'example.com', 'A', 'forward'],
    ['a zone that only ends like ours', 'notcluster.local', 'A', 'forward'],
  ];

  it.each(cases)('%s: %s %s', (_what, name, type, want) => {
    expect(show(ask(name, type))).toEqual(want);
  });

  it('marks an ExternalName outside the zone for the caller to chase', () => {
    const r = ask('ext.other.svc.cluster.local', 'A');
    expect(r.action === 'answer' && r.chase).toEqual({ name: 'www.example.com', type: RRType.A });
  });

  it('answers SERVFAIL instead of NXDOMAIN before the caches have synced', () => {
    expect(show(ask('nope.default.svc.cluster.local', 'A', {}, fakeView(false)))).toMatchObject({ rcode: 'SERVFAIL' });
  });

  it('uses the SOA serial from the view and the configured TTL', () => {
    const r = ask('nope.default.svc.cluster.local', 'A', { ttl: 5 });
    expect(r.action === 'answer' && r.authority[0]).toMatchObject({ serial: 1700000000, ttl: 5, minimum: 5, refresh: 7200, retry: 1800, expiration: 86400 });
    expect(show(ask('web.default.svc.cluster.local', 'A', { ttl: 5 }))).toEqual(ok(['web.default.svc.cluster.local 5 A 10.96.0.20']));
  });

  it('serves another cluster domain, and not cluster.local then', () => {
    expect(show(ask('web.default.svc.k8s.example', 'A', { zone: 'k8s.example' }))).toEqual(ok(['web.default.svc.k8s.example 30 A 10.96.0.20']));
    expect(ask('web.default.svc.cluster.local', 'A', { zone: 'k8s.example' })).toEqual({ action: 'forward' });
  });

  it('pods verified: only IPs of pods in that namespace', () => {
    expect(show(ask('10-244-1-5.default.pod.cluster.local', 'A', { podMode: 'verified' }))).toEqual(ok(['10-244-1-5.default.pod.cluster.local 30 A 10.244.1.5']));
    expect(show(ask('10-244-7-7.default.pod.cluster.local', 'A', { podMode: 'verified' }))).toEqual(nxdomain);
    expect(show(ask('10-244-1-5.other.pod.cluster.local', 'A', { podMode: 'verified' }))).toEqual(nxdomain);
    expect(show(ask('10-244-1-5.default.pod.cluster.local', 'A', { podMode: 'disabled' }))).toEqual(nxdomain);
  });

  it('NS falls back to the local IPs as ns.dns.<zone> when no Service has them', () => {
    expect(show(ask('cluster.local', 'NS', { localIPs: ['192.0.2.1'] }))).toEqual(ok(['cluster.local 30 NS ns.dns.cluster.local'], ['ns.dns.cluster.local 30 A 192.0.2.1']));
    expect(show(ask('ns.dns.cluster.local', 'A', { localIPs: ['192.0.2.1'] }))).toEqual(ok(['ns.dns.cluster.local 30 A 192.0.2.1']));
  });
});

describe('addresses', () => {
  it('canonicalizes IPs', () => {
    expect(canonicalIP('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIP('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    expect(canonicalIP('::')).toBe('::');
    expect(canonicalIP('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(canonicalIP('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIP('web')).toBeUndefined();
  });

  it('reads reverse names', () => {
    expect(addressFromReverse('4.3.2.1.in-addr.arpa.')).toBe('1.2.3.4');
    expect(addressFromReverse('3.2.1.in-addr.arpa')).toBeUndefined();
    expect(addressFromReverse('256.3.2.1.in-addr.arpa')).toBeUndefined();
    expect(addressFromReverse('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA')).toBe('2001:db8::1');
  });
});
