// kubectl commands whose typed clients POST protobuf bodies, used by the fixture recorder and the live
// test. `{dir}` in an argument is replaced by a scratch directory holding `blob.bin` (non-UTF-8 bytes,
// so it lands in ConfigMap binaryData), `tls.crt` and `tls.key`.
export interface KubectlCase {
  name: string;
  args: string[];
  /** GET paths the fake server answers, each with a testdata/ JSON file. */
  serve?: Record<string, string>;
  /** For commands without --dry-run: the object kubectl sends, written by hand... */
  expected?: Record<string, unknown>;
  /** ...and what the server answers the captured request with. */
  reply?: Record<string, unknown>;
  /** The verb of the request to capture (POST unless said). */
  method?: 'POST' | 'PUT' | 'DELETE';
  /** Dotted paths whose value changes per run (timestamps kubectl sets to now). */
  volatile?: string[];
}

const NS = ['-n', 'default'];

export const KUBECTL_CASES: readonly KubectlCase[] = [
  { name: 'namespace', args: ['create', 'namespace', 'team-a'] },
  {
    name: 'configmap',
    args: ['create', 'configmap', 'cm', '--from-literal=a=1', '--from-literal=empty=', '--from-file=blob={dir}/blob.bin', '--append-hash', ...NS],
  },
  { name: 'secret-generic', args: ['create', 'secret', 'generic', 's', '--from-literal=user=admin', '--from-literal=pw=', '--type=Opaque', ...NS] },
  { name: 'secret-tls', args: ['create', 'secret', 'tls', 'tls', '--cert={dir}/tls.crt', '--key={dir}/tls.key', ...NS] },
  {
    name: 'secret-docker-registry',
    args: ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p', ...NS],
  },
  { name: 'serviceaccount', args: ['create', 'serviceaccount', 'robot', ...NS] },
  { name: 'service-clusterip', args: ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:https', ...NS] },
  { name: 'service-headless', args: ['create', 'service', 'clusterip', 'hl', '--clusterip=None', ...NS] },
  { name: 'service-nodeport', args: ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080', ...NS] },
  { name: 'service-loadbalancer', args: ['create', 'service', 'loadbalancer', 'lb', '--tcp=5678:8080', ...NS] },
  { name: 'service-externalname', args: ['create', 'service', 'externalname', 'ext', '--external-name=db.example.com', ...NS] },
  {
    name: 'deployment',
    args: ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=0', '--port=80', ...NS, '--', 'sh', '-c', 'sleep 1'],
  },
  { name: 'deployment-two-images', args: ['create', 'deployment', 'two', '--image=nginx', '--image=busybox:1.36', '--replicas=3', ...NS] },
  { name: 'deployment-simple', args: ['create', 'deployment', 'app', '--image=registry.local/app:v1', ...NS] },
  { name: 'job', args: ['create', 'job', 'once', '--image=busybox', ...NS, '--', 'echo', 'hi'] },
  { name: 'cronjob', args: ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=Never', ...NS, '--', 'date'] },
  {
    name: 'role',
    args: ['create', 'role', 'reader', '--verb=get,list', '--verb=watch', '--resource=pods,deployments.apps', '--resource-name=a', ...NS],
  },
  { name: 'clusterrole', args: ['create', 'clusterrole', 'cr', '--verb=get', '--resource=namespaces', '--non-resource-url=/healthz'] },
  { name: 'clusterrole-aggregate', args: ['create', 'clusterrole', 'agg', '--aggregation-rule=rbac.example.com/aggregate=true'] },
  {
    name: 'rolebinding',
    args: ['create', 'rolebinding', 'rb', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=default:robot', ...NS],
  },
  { name: 'clusterrolebinding', args: ['create', 'clusterrolebinding', 'crb', '--clusterrole=view', '--user=bob'] },
  { name: 'quota', args: ['create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=2,services.nodeports=0', '--scopes=BestEffort', ...NS] },
  { name: 'priorityclass', args: ['create', 'priorityclass', 'zero', '--value=0', '--description=zero prio', '--preemption-policy=Never'] },
  { name: 'priorityclass-default', args: ['create', 'priorityclass', 'high', '--value=1000', '--global-default'] },
  { name: 'pdb', args: ['create', 'poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=50%', ...NS] },
  {
    name: 'job-from-cronjob',
    args: ['create', 'job', 'manual', '--from=cronjob/src', ...NS],
    serve: { '/apis/batch/v1/namespaces/default/cronjobs/src': 'cronjob-source.json' },
  },
  {
    name: 'token',
    args: ['create', 'token', 'robot', '--audience=api', '--audience=vault', '--duration=10m', '--bound-object-kind=Pod', '--bound-object-name=p', '--bound-object-uid=u-1', ...NS],
    expected: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      // The name and namespace travel only in the URL; `status.token` has no omitempty in Go.
      spec: { audiences: ['api', 'vault'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u-1' } },
      status: { token: '' },
    },
    reply: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', status: { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' } },
  },
  {
    name: 'auth-can-i',
    args: ['auth', 'can-i', 'list', 'deployments.apps', '--subresource=scale', ...NS],
    expected: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'default', verb: 'list', group: 'apps', resource: 'deployments', subresource: 'scale' } },
      status: { allowed: false },
    },
    reply: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', status: { allowed: true } },
  },
  {
    name: 'auth-whoami',
    args: ['auth', 'whoami'],
    expected: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} },
    reply: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', status: { userInfo: { username: 'admin' } } },
  },
  {
    // drain deletes pods through the typed client, with a protobuf DeleteOptions body.
    name: 'drain-delete',
    args: ['drain', 'n1', '--grace-period=0', '--disable-eviction', '--timeout=10s'],
    method: 'DELETE',
    serve: { '/api/v1/nodes/n1': 'drain-node.json', '/api/v1/pods': 'drain-pods.json' },
    expected: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
    reply: { apiVersion: 'v1', kind: 'Status', status: 'Success' },
  },
  {
    // certificate approve PUTs the whole CSR to /approval with an Approved condition added.
    name: 'certificate-approve',
    args: ['certificate', 'approve', 'c1'],
    method: 'PUT',
    serve: { '/apis/certificates.k8s.io/v1/certificatesigningrequests/c1': 'csr-source.json' },
    expected: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'c1', uid: 'x', resourceVersion: '4', creationTimestamp: '2024-05-06T07:08:09Z' },
      spec: {
        request: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K',
        signerName: 'kubernetes.io/kube-apiserver-client',
        expirationSeconds: 3600,
        usages: ['client auth', 'digital signature'],
        username: 'admin',
        groups: ['system:masters'],
        extra: { scopes: ['a', 'b'] },
      },
      status: {
        conditions: [
          {
            type: 'Approved',
            status: 'True',
            reason: 'KubectlApprove',
            message: 'This CSR was approved by kubectl certificate approve.',
            lastUpdateTime: '2000-01-01T00:00:00Z', // volatile: replaced by the recorded value
          },
        ],
      },
    },
    volatile: ['status.conditions.0.lastUpdateTime'],
  },
  { name: 'ingress', args: ['create', 'ingress', 'ing', '--rule=foo.com/bar=svc1:8080,tls=my-cert', '--class=nginx', ...NS] },
];
