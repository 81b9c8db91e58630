// The cluster DNS in-process against a real apiserver + etcd, queried over UDP and TCP with dns2's
// clients. Names outside the cluster go to a stub upstream this test runs on 127.0.0.1 (never a real resolver).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dns2 from 'dns2';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { startEtcd, type EtcdInstance } from '../../../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../../../test/fixtures/apiserver.js';
import { kubectl } from '../../../test/fixtures/kubectl.js';
import { freePort } from '../../../test/fixtures/ports.js';
import { defaults, validate } from './config.js';
import { createDNSServer, type DNSServer } from './server.js';

const { Packet, UDPClient, TCPClient, UDPServer, TCPServer } = dns2;
type DnsPacket = dns2.Packet;

const NS = 'dns-int';
const services = findResource('', 'v1', 'services')!;
const namespaces = findResource('', 'v1', 'namespaces')!;
const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let server: DNSServer;
let dnsPort: number;
let webIP: string;
let resolvConf: string;

/** The stub upstream: example.test and www.example.com have addresses, drop.example.test is never answered, the rest is NXDOMAIN. */
const upstreamQueries: string[] = [];
let stubUdp: InstanceType<typeof UDPServer>;
let stubTcp: InstanceType<typeof TCPServer>;

function stubAnswer(request: DnsPacket): DnsPacket | undefined {
  const q = request.questions[0]!;
  upstreamQueries.push(`${q.name.toLowerCase()} ${q.type}`);
  const reply = Packet.createResponseFromRequest(request);
  reply.header.ra = 1;
  const name = q.name.toLowerCase();
  if (name === 'drop.example.test') return undefined;
  const addresses: Record<string, string> = { 'example.test': '192.0.2.10', 'www.example.com': '192.0.2.20' };
  if (addresses[name] && q.type === Packet.TYPE.A) {
    reply.answers.push({ name: q.name, type: Packet.TYPE.A, class: 1, ttl: 300, address: addresses[name] } as dns2.Packet.Resource);
  } else if (!addresses[name]) {
    reply.header.rcode = 3;
    reply.authorities.push({
      name: 'test', type: Packet.TYPE.SOA, class: 1, ttl: 60, primary: 'ns.test', admin: 'root.test',
      serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 60,
    } as dns2.Packet.Resource);
  }
  return reply;
}

async function startStub(): Promise<number> {
  const port = await freePort();
  stubUdp = new UDPServer({ type: 'udp4' });
  stubUdp.on('request', (req, send) => {
    const r = stubAnswer(req);
    if (r) void send(r);
  });
  await new Promise<void>((res) => stubUdp.bind(port, '127.0.0.1', () => res()));
  stubTcp = new TCPServer();
  stubTcp.on('request', (req, send) => {
    const r = stubAnswer(req);
    if (r) void send(r);
  });
  await new Promise<void>((res) => stubTcp.listen({ port, host: '127.0.0.1' }, () => res()));
  return port;
}

const udp = (name: string, type: string) => UDPClient({ dns: '127.0.0.1', port: dnsPort, retryOverTCP: false, timeout: 5000 })(name, type as 'A');
const tcp = (name: string, type: string) => TCPClient({ dns: '127.0.0.1', port: dnsPort })(name, type as 'A');
const addresses = (p: DnsPacket) => p.answers.filter((a) => a.type === Packet.TYPE.A).map((a) => a.address).sort();

/** Sends a hand-made query over UDP (dns2's clients send no EDNS0 OPT record) and parses the reply. */
function rawUdp(query: DnsPacket): Promise<DnsPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, 5000);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(Packet.parse(msg));
    });
    socket.send(query.toBuffer(), dnsPort, '127.0.0.1');
  });
}

function ednsQuery(name: string, opts: { udpPayloadSize: number; version?: number }): DnsPacket {
  const q = new Packet();
  q.header = new Packet.Header({ id: 7, rd: 1 });
  q.questions = [new Packet.Question(name, Packet.TYPE.A, 1)];
  const opt = Packet.Resource.EDNS([]) as dns2.Packet.Resource;
  Object.assign(opt, { class: opts.udpPayloadSize, ttl: (opts.version ?? 0) << 16 });
  q.additionals = [opt];
  return q;
}

async function createService(name: string, spec: object): Promise<KubeObject> {
  return client.resource(services, NS).create({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
}

async function createSlice(service: string, endpoints: object[], ports: object[]): Promise<void> {
  await client.resource(slices, NS).create({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints,
    ports,
  });
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  await client.resource(namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const web = await createService('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }], selector: { app: 'web' } });
  webIP = web.spec.clusterIP;
  await createService('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }], selector: { app: 'db' } });
  await createSlice(
    'db',
    [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.2.6'], hostname: 'db-1', conditions: { ready: true } },
      { addresses: ['10.244.3.7'], conditions: { ready: false } },
    ],
    [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  );
  // Enough endpoints that the A answer cannot fit 512 bytes of UDP.
  await createService('many', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }], selector: { app: 'many' } });
  await createSlice('many', Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.245.0.${i + 1}`], conditions: { ready: true } })), [{ name: 'x', port: 1, protocol: 'TCP' }]);
  await createService('ext', { type: 'ExternalName', externalName: 'www.example.com' });

  const stubPort = await startStub();
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-dns-'));
  resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `# the test's stub upstream\nnameserver 127.0.0.1:${stubPort}\noptions ndots:5\n`);
  dnsPort = await freePort();
  const config = validate({
    ...defaults(),
    dnsBindAddress: '127.0.0.1',
    dnsPort,
    healthPort: 0,
    readyPort: 0,
    metricsPort: 0,
    resolvConf,
    forwardTimeoutMs: 300,
    forwardDeadlineMs: 600,
  });
  server = createDNSServer(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger(), localIPs: [] });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  stubUdp?.close();
  stubTcp?.close();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('cluster DNS', () => {
  it('answers A for a ClusterIP service over UDP and TCP, case-insensitively', async () => {
    expect(webIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    for (const ask of [udp, tcp]) {
      const r = await ask(`web.${NS}.svc.cluster.local`, 'A');
      expect(r.header.rcode).toBe(0);
      expect(r.header.aa).toBe(1);
      expect(r.answers).toMatchObject([{ name: `web.${NS}.svc.cluster.local`, ttl: 30, address: webIP }]);
    }
    expect(addresses(await udp(`WEB.${NS.toUpperCase()}.svc.Cluster.Local`, 'A'))).toEqual([webIP]);
  });

  it('answers SRV with the target address in the additional section', async () => {
    const r = await udp(`_http._tcp.web.${NS}.svc.cluster.local`, 'SRV');
    expect(r.answers).toMatchObject([{ type: Packet.TYPE.SRV, port: 80, priority: 0, weight: 100, target: `web.${NS}.svc.cluster.local` }]);
    expect(r.additionals.filter((a) => a.type === Packet.TYPE.A)).toMatchObject([{ name: `web.${NS}.svc.cluster.local`, address: webIP }]);
  });

  it('answers PTR for a cluster IP and a headless endpoint', async () => {
    const rev = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    expect((await udp(rev(webIP), 'PTR')).answers).toMatchObject([{ type: Packet.TYPE.PTR, domain: `web.${NS}.svc.cluster.local` }]);
    expect((await tcp(rev('10.244.2.6'), 'PTR')).answers).toMatchObject([{ domain: `db-1.db.${NS}.svc.cluster.local` }]);
  });

  it('answers headless services with their ready endpoints and hostnames', async () => {
    expect(addresses(await udp(`db.${NS}.svc.cluster.local`, 'A'))).toEqual(['10.244.1.5', '10.244.2.6']);
    expect(addresses(await udp(`db-0.db.${NS}.svc.cluster.local`, 'A'))).toEqual(['10.244.1.5']);
    const srv = await tcp(`_pg._tcp.db.${NS}.svc.cluster.local`, 'SRV');
    expect(srv.answers.map((a) => a.target).sort()).toEqual([`db-0.db.${NS}.svc.cluster.local`, `db-1.db.${NS}.svc.cluster.local`]);
  });

  it('tells NXDOMAIN from NODATA, with the SOA in the authority section', async () => {
    const nx = await udp(`nope.${NS}.svc.cluster.local`, 'A');
    expect(nx.header.rcode).toBe(3);
    expect(nx.answers).toEqual([]);
    expect(nx.authorities).toMatchObject([{ type: Packet.TYPE.SOA, name: 'cluster.local', primary: 'ns.dns.cluster.local', admin: 'hostmaster.cluster.local', minimum: 30 }]);
    const nodata = await udp(`web.${NS}.svc.cluster.local`, 'AAAA');
    expect(nodata.header.rcode).toBe(0);
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities).toMatchObject([{ type: Packet.TYPE.SOA }]);
    expect((await udp('dns-version.cluster.local', 'TXT')).answers).toMatchObject([{ data: ['1.1.0'] }]);
  });

  it('sees a new service and a changed ExternalName within a second', async () => {
    const started = Date.now();
    const late = await createService('late', { ports: [{ port: 81 }] });
    for (;;) {
      const r = await udp(`late.${NS}.svc.cluster.local`, 'A');
      if (r.header.rcode === 0 && r.answers.length) {
        expect(r.answers[0]!.address).toBe(late.spec.clusterIP);
        break;
      }
      expect(Date.now() - started).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const changed = Date.now();
    await client.resource(services, NS).patch('ext', { spec: { externalName: 'example.test' } }, 'merge');
    for (;;) {
      const r = await udp(`ext.${NS}.svc.cluster.local`, 'CNAME');
      if (r.answers[0]?.domain === 'example.test') break;
      expect(Date.now() - changed).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.resource(services, NS).patch('ext', { spec: { externalName: 'www.example.com' } }, 'merge');
  });

  it('truncates a UDP answer over 512 bytes and answers it whole over TCP', async () => {
    const u = await udp(`many.${NS}.svc.cluster.local`, 'A');
    expect(u.header.tc).toBe(1);
    expect(u.answers.length).toBeLessThan(60);
    const t = await tcp(`many.${NS}.svc.cluster.local`, 'A');
    expect(t.header.tc).toBe(0);
    expect(t.answers).toHaveLength(60);
  });

  it('answers large responses over UDP up to the EDNS0 payload size, and BADVERS to unknown EDNS versions', async () => {
    const r = await rawUdp(ednsQuery(`many.${NS}.svc.cluster.local`, { udpPayloadSize: 4096 }));
    expect(r.header.tc).toBe(0);
    expect(r.answers).toHaveLength(60);
    expect(r.additionals).toMatchObject([{ type: Packet.TYPE.EDNS }]);
    const small = await rawUdp(ednsQuery(`many.${NS}.svc.cluster.local`, { udpPayloadSize: 512 }));
    expect(small.header.tc).toBe(1);
    const bad = await rawUdp(ednsQuery(`web.${NS}.svc.cluster.local`, { udpPayloadSize: 4096, version: 1 }));
    expect(bad.header.rcode).toBe(16);
    expect(bad.answers).toEqual([]);
  });

  it('answers a repeated question with the same records under each request\'s own message ID', async () => {
    const ask = (id: number) => {
      const q = ednsQuery(`web.${NS}.svc.cluster.local`, { udpPayloadSize: 1232 });
      q.header.id = id;
      return rawUdp(q);
    };
    const first = await ask(101);
    const second = await ask(202);
    expect([first.header.id, second.header.id]).toEqual([101, 202]);
    expect(first.answers).toMatchObject([{ address: webIP }]);
    expect(second.answers).toEqual(first.answers);
  });

  it('forwards other names to the resolv.conf upstream and caches the answer', async () => {
    const before = upstreamQueries.filter((q) => q === 'example.test 1').length;
    const first = await udp('example.test', 'A');
    expect(first.header.rcode).toBe(0);
    expect(addresses(first)).toEqual(['192.0.2.10']);
    const second = await tcp('EXAMPLE.test', 'A');
    expect(addresses(second)).toEqual(['192.0.2.10']);
    expect(second.answers[0]!.ttl).toBeLessThanOrEqual(30);
    expect(upstreamQueries.filter((q) => q === 'example.test 1').length).toBe(before + 1);
    const nx = await udp('missing.example.test', 'A');
    expect(nx.header.rcode).toBe(3);
    const metrics = await get(server.ports().metrics, '/metrics');
    expect(metrics.body).toMatch(/coredns_cache_hits_total\{server="dns:\/\/127\.0\.0\.1:\d+",type="success",zones="\.",view=""\} 1/);
  });

  it('completes an ExternalName CNAME with the upstream answer for its target', async () => {
    const r = await udp(`ext.${NS}.svc.cluster.local`, 'A');
    expect(r.answers).toMatchObject([
      { type: Packet.TYPE.CNAME, name: `ext.${NS}.svc.cluster.local`, domain: 'www.example.com' },
      { type: Packet.TYPE.A, name: 'www.example.com', address: '192.0.2.20' },
    ]);
  });

  it('answers SERVFAIL when the upstream does not answer in time', async () => {
    const started = Date.now();
    const r = await udp('drop.example.test', 'A');
    expect(r.header.rcode).toBe(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers NXDOMAIN at once for names outside the cluster when resolv.conf has no nameserver (an offline lab)', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'kubelab-dns-')), 'resolv.conf');
    writeFileSync(empty, '# no upstream\noptions ndots:5\n');
    const port = await freePort();
    const offline = createDNSServer(validate({ ...defaults(), dnsBindAddress: '127.0.0.1', dnsPort: port, healthPort: 0, readyPort: 0, metricsPort: 0, resolvConf: empty }), {
      client: new RestClient(loadKubeconfig(api.kubeconfig)),
      logger: silentLogger(),
      localIPs: [],
    });
    await offline.start();
    try {
      const ask = (name: string) => UDPClient({ dns: '127.0.0.1', port, retryOverTCP: false, timeout: 5000 })(name, 'A');
      const started = Date.now();
      const r = await ask('kubernetes.default');
      expect(r.header.rcode).toBe(3); // NXDOMAIN
      expect(Date.now() - started).toBeLessThan(1000);
      expect(addresses(await ask('web.default.svc.cluster.local'))).toEqual(addresses(await udp('web.default.svc.cluster.local', 'A')));
    } finally {
      await offline.stop();
    }
  });

  it('serves /health, /ready and the metrics', async () => {
    const { health, ready, metrics } = server.ports();
    expect(await get(health, '/health')).toEqual({ status: 200, body: 'OK' });
    expect(await get(ready, '/ready')).toEqual({ status: 200, body: 'OK' });
    const m = (await get(metrics, '/metrics')).body;
    expect(m).toMatch(/coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view="",proto="udp",family="1",type="A"\} \d+/);
    expect(m).toMatch(/coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*type="SRV"\} \d+/);
    expect(m).toMatch(/coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN",plugin="kubernetes"\} \d+/);
    expect(m).toMatch(/coredns_dns_responses_total\{[^}]*rcode="SERVFAIL"[^}]*\} 1/);
    expect(m).toMatch(/coredns_dns_request_duration_seconds_count\{[^}]*type="A"\} \d+/);
  });

  it('ships manifests the apiserver accepts (kubectl apply --dry-run=server)', async () => {
    const r = await kubectl(api.kubeconfig, ['apply', '--dry-run=server', '-f', join(import.meta.dirname, '../deploy/kube-dns.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('serviceaccount/coredns created (server dry run)');
    expect(r.stdout).toContain('clusterrole.rbac.authorization.k8s.io/system:coredns created (server dry run)');
    expect(r.stdout).toContain('service/kube-dns created (server dry run)');
    expect(r.stdout).toContain('deployment.apps/coredns created (server dry run)');
  });

  it('runs as a process from its flags (npm run dns) and stops on SIGTERM', async () => {
    const port = await freePort();
    const [health, ready, metrics] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        '--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'main.ts'),
        `--kubeconfig=${api.kubeconfig}`, '--dns-bind-address=127.0.0.1', `--dns-port=${port}`, `--health-port=${health}`,
        `--ready-port=${ready}`, `--metrics-port=${metrics}`, `--resolv-conf=${resolvConf}`, '--ttl=7',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 30_000;
      while ((await get(ready, '/ready').catch(() => ({ status: 0 }))).status !== 200) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not ready:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await UDPClient({ dns: '127.0.0.1', port, timeout: 5000 })(`web.${NS}.svc.cluster.local`, 'A');
      expect(r.answers).toMatchObject([{ address: webIP, ttl: 7 }]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
