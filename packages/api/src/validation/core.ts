// Validation of the core/v1 kinds other than Pod (see pod.ts): Service, Endpoints, Namespace, Node,
// ConfigMap, Secret, ServiceAccount, Event, ReplicationController, LimitRange, ResourceQuota and Binding,
// as upstream's pkg/apis/core/validation.
import type {
  Binding,
  ConfigMap,
  Endpoints,
  Event,
  LimitRange,
  Namespace,
  Node,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import type { Quantity } from '../quantity.js';
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { ipFamily, isConfigMapKey, isDNS1123Subdomain, isQualifiedName, isValidIP, isValidLabelValue, isValidPortNum } from './names.js';
import { PORT_PROTOCOLS, validatePodTemplateSpec } from './pod.js';
import {
  asArray,
  asMap,
  byteLength,
  child,
  deepEqual,
  immutable,
  index,
  key,
  msgsToInvalid,
  nonNegative,
  quantityString,

  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateEnum,
  validateLabels,
  validatePortNumOrName,
  validateQualifiedName,
  validateResourceList,
  validateResourceName,
  validateResourceQuantityValue,
} from './util.js';

type Errs = FieldError[];

const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };

// ---- IP helpers ----

/** Upstream ValidateEndpointIP: a valid IP that is not unspecified, loopback or link-local. */
export function validateNonSpecialIP(ip: string, path: string): Errs {
  const fam = ipFamily(ip);
  if (fam === 0) return [fieldErrors.invalid(path, ip, 'must be a valid IP address')];
  const errs: Errs = [];
  let unspecified = false;
  let loopback = false;
  let linkLocal = false;
  let llMulticast = false;
  if (fam === 4) {
    const o = ip.split('.').map(Number);
    unspecified = o.every((x) => x === 0);
    loopback = o[0] === 127;
    linkLocal = o[0] === 169 && o[1] === 254;
    llMulticast = o[0] === 224 && o[1] === 0 && o[2] === 0;
  } else {
    const x = expandIPv6(ip);
    unspecified = /^0+$/.test(x);
    loopback = /^0{31}1$/.test(x);
    linkLocal = /^fe[89ab]/.test(x);
    llMulticast = /^ff02/.test(x);
  }
  if (unspecified) errs.push(fieldErrors.invalid(path, ip, `may not be unspecified (${ip})`));
  if (loopback) errs.push(fieldErrors.invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(fieldErrors.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (llMulticast) errs.push(fieldErrors.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** 32 lower-case hex digits for an IPv6 address (IPv4-mapped tails included). */
function expandIPv6(ip: string): string {
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail !== undefined ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join('');
}

function isValidCIDR(cidr: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return false;
  const fam = ipFamily(m[1]!);
  const bits = Number(m[2]);
  return fam === 4 ? bits <= 32 : fam === 6 ? bits <= 128 : false;
}

// ---- Service ----

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

export function validateService(svc: Service): Errs {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameValidator: nameIsDNS1035Label });
  const spec = svc.spec ?? {};
  const sp = 'spec';
  const ports = asArray(spec.ports);
  const headless = spec.clusterIP === 'None';
  const type = spec.type;
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(fieldErrors.required(child(sp, 'ports'), ''));
  if (type === 'ExternalName') {
    if (asArray(spec.clusterIPs).length > 0 || (spec.clusterIP && spec.clusterIP !== '')) {
      errs.push(fieldErrors.forbidden(child(sp, 'clusterIPs'), 'may not be set for ExternalName services'));
    }
    if (asArray(spec.ipFamilies).length > 0) errs.push(fieldErrors.forbidden(child(sp, 'ipFamilies'), 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy) errs.push(fieldErrors.forbidden(child(sp, 'ipFamilyPolicy'), 'may not be set for ExternalName services'));
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname) errs.push(...validateDNS1123Subdomain(cname, child(sp, 'externalName')));
    else errs.push(fieldErrors.required(child(sp, 'externalName'), ''));
  }
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = index(child(sp, 'ports'), i);
    if (ports.length > 1 && !port.name) errs.push(fieldErrors.required(child(p, 'name'), ''));
    else if (port.name) {
      errs.push(...validateDNS1123Label(port.name, child(p, 'name')));
      if (names.has(port.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), port.name));
      else names.add(port.name);
    }
    errs.push(...msgsToInvalid(isValidPortNum(port.port), child(p, 'port'), port.port));
    errs.push(...validateEnum(port.protocol, child(p, 'protocol'), PORT_PROTOCOLS));
    if (port.targetPort !== undefined) errs.push(...validatePortNumOrName(port.targetPort, child(p, 'targetPort')));
    if (port.appProtocol) errs.push(...validateQualifiedName(port.appProtocol, child(p, 'appProtocol')));
  });
  if (spec.selector) errs.push(...validateLabels(spec.selector, child(sp, 'selector')));
  errs.push(...validateEnum(spec.sessionAffinity, child(sp, 'sessionAffinity'), ['ClientIP', 'None']));
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t !== undefined && (t <= 0 || t > 86400)) {
      errs.push(fieldErrors.invalid(child(sp, 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds'), t, 'must be greater than 0 and less than 86400'));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(fieldErrors.forbidden(child(sp, 'sessionAffinityConfig'), 'must not be set when session affinity is None'));
  }
  asArray(spec.externalIPs).forEach((ip, i) => {
    const p = index(child(sp, 'externalIPs'), i);
    const msgs = isValidIP(ip);
    if (msgs.length) errs.push(...msgsToInvalid(msgs, p, ip));
    else errs.push(...validateNonSpecialIP(ip, p));
  });
  errs.push(...validateEnum(type, child(sp, 'type'), SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((port, i) => {
      if (port.nodePort) errs.push(fieldErrors.forbidden(child(index(child(sp, 'ports'), i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) {
    errs.push(fieldErrors.required(child(sp, 'allocateLoadBalancerNodePorts'), ''));
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((port, i) => {
    const p = index(child(sp, 'ports'), i);
    if (port.nodePort) {
      const k = `${port.protocol}/${port.nodePort}`;
      if (nodePorts.has(k)) errs.push(fieldErrors.duplicate(child(p, 'nodePort'), port.nodePort));
      nodePorts.add(k);
    }
    const k = `${port.protocol}/${port.port}`;
    if (portKeys.has(k)) errs.push(fieldErrors.duplicate(p, { port: port.port, protocol: port.protocol }));
    portKeys.add(k);
  });
  const externallyAccessible = type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && asArray(spec.externalIPs).length > 0);
  if (!externallyAccessible) {
    if (spec.externalTrafficPolicy) {
      errs.push(fieldErrors.invalid(child(sp, 'externalTrafficPolicy'), spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else {
    errs.push(...validateEnum(spec.externalTrafficPolicy, child(sp, 'externalTrafficPolicy'), ['Cluster', 'Local']));
  }
  if (spec.healthCheckNodePort && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    errs.push(fieldErrors.invalid(child(sp, 'healthCheckNodePort'), spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  }
  if (type !== 'ExternalName') {
    errs.push(...validateEnum(spec.internalTrafficPolicy, child(sp, 'internalTrafficPolicy'), ['Cluster', 'Local']));
    errs.push(...validateClusterIPs(svc));
  }
  return errs;
}

function validateClusterIPs(svc: Service): Errs {
  const errs: Errs = [];
  const spec = svc.spec ?? {};
  const f = 'spec.clusterIPs';
  const ips = asArray(spec.clusterIPs);
  if (spec.clusterIP) {
    if (ips.length === 0) {
      // The strategy normally mirrors clusterIP into clusterIPs; validate clusterIP itself when it has not.
      if (spec.clusterIP !== 'None') errs.push(...msgsToInvalid(isValidIP(spec.clusterIP), 'spec.clusterIP', spec.clusterIP));
    } else if (ips[0] !== spec.clusterIP) {
      errs.push(fieldErrors.invalid(f, ips, 'first value must match `clusterIP`'));
    }
  } else if (ips.length !== 0) {
    errs.push(fieldErrors.invalid(f, ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  asArray(spec.ipFamilies).forEach((fam, i) => {
    const p = index('spec.ipFamilies', i);
    if (fam !== 'IPv4' && fam !== 'IPv6') errs.push(fieldErrors.notSupported(p, fam, ['IPv4', 'IPv6']));
    if (seen.has(fam)) errs.push(fieldErrors.duplicate(p, fam));
    seen.add(fam);
  });
  if (spec.ipFamilyPolicy) errs.push(...validateEnum(spec.ipFamilyPolicy, 'spec.ipFamilyPolicy', ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) errs.push(fieldErrors.invalid(f, ips, "'None' must be the first and only value"));
      return;
    }
    errs.push(...msgsToInvalid(isValidIP(ip), index(f, i), ip));
  });
  if (ips.length > 2) errs.push(fieldErrors.invalid(f, ips, 'may only hold up to 2 values'));
  if (ips.length === 2 && ipFamily(ips[0]!) !== 0 && ipFamily(ips[0]!) === ipFamily(ips[1]!)) {
    errs.push(fieldErrors.invalid(f, ips, 'may specify no more than one IP for each IP family'));
  }
  return errs;
}

export function validateServiceUpdate(svc: Service, old: Service): Errs {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  if (svc.spec?.type !== 'ExternalName' && old.spec?.type !== 'ExternalName') {
    const n = asArray(svc.spec?.clusterIPs);
    const o = asArray(old.spec?.clusterIPs);
    const f = 'spec.clusterIPs[0]';
    if (o.length === n.length) {
      if (o.some((ip, i) => ip !== n[i])) errs.push(fieldErrors.invalid(f, n, 'may not change once set'));
    } else if (o.length > n.length) {
      if (n.length === 0) errs.push(fieldErrors.invalid(f, n, 'primary clusterIP can not be unset'));
      else if (n[0] !== o[0]) errs.push(fieldErrors.invalid(f, n, 'may not change once set'));
      if (n.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
        errs.push(fieldErrors.invalid(f, n, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (o.length > 0 && n[0] !== o[0]) {
      errs.push(fieldErrors.invalid(f, n, 'may not change once set'));
    }
    // Without clusterIPs (a strategy that does not mirror them), hold clusterIP itself.
    if (o.length === 0 && n.length === 0 && old.spec?.clusterIP && svc.spec?.clusterIP !== old.spec.clusterIP) {
      errs.push(fieldErrors.invalid('spec.clusterIP', svc.spec?.clusterIP ?? '', 'field is immutable'));
    }
  }
  errs.push(...validateService(svc).filter((e) => !e.field.startsWith('metadata')));
  return errs;
}

export function validateServiceStatusUpdate(svc: Service, old: Service): Errs {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  asArray(svc.status?.loadBalancer?.ingress).forEach((ing, i) => {
    const p = index('status.loadBalancer.ingress', i);
    if (ing.ip) errs.push(...msgsToInvalid(isValidIP(ing.ip).length ? ['must be a valid IP address'] : [], child(p, 'ip'), ing.ip));
    if (ing.hostname) {
      errs.push(...validateDNS1123Subdomain(ing.hostname, child(p, 'hostname')));
      if (ipFamily(ing.hostname)) errs.push(fieldErrors.invalid(child(p, 'hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// ---- Endpoints ----

export function validateEndpoints(ep: Endpoints): Errs {
  const errs = validateObjectMeta(ep.metadata, ns);
  asArray(ep.subsets).forEach((ss, i) => {
    const p = index('subsets', i);
    if (asArray(ss.addresses).length === 0 && asArray(ss.notReadyAddresses).length === 0) {
      errs.push(fieldErrors.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const f of ['addresses', 'notReadyAddresses'] as const) {
      asArray(ss[f]).forEach((a, j) => {
        const ap = index(child(p, f), j);
        errs.push(...msgsToInvalid(isValidIP(a.ip ?? ''), child(ap, 'ip'), a.ip ?? ''));
        if (a.hostname) errs.push(...validateDNS1123Label(a.hostname, child(ap, 'hostname')));
        if (a.nodeName !== undefined) errs.push(...validateDNS1123Subdomain(a.nodeName, child(ap, 'nodeName')));
        errs.push(...validateNonSpecialIP(a.ip ?? '', child(ap, 'ip')));
      });
    }
    const ports = asArray(ss.ports);
    ports.forEach((port, j) => {
      const pp = index(child(p, 'ports'), j);
      if (ports.length > 1 && !port.name) errs.push(fieldErrors.required(child(pp, 'name'), ''));
      else if (port.name) errs.push(...validateDNS1123Label(port.name, child(pp, 'name')));
      errs.push(...msgsToInvalid(isValidPortNum(port.port), child(pp, 'port'), port.port));
      errs.push(...validateEnum(port.protocol, child(pp, 'protocol'), PORT_PROTOCOLS));
    });
  });
  return errs;
}

// ---- Namespace ----

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

function validateKubeFinalizerName(name: string, path: string): Errs {
  const errs = msgsToInvalid(isQualifiedName(name), path, name);
  if (!name.includes('/') && !STANDARD_FINALIZERS.has(name)) {
    errs.push(fieldErrors.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

export function validateNamespace(nsObj: Namespace): Errs {
  const errs = validateObjectMeta(nsObj.metadata, { namespaced: false, nameValidator: nameIsDNSLabel });
  for (const f of asArray(nsObj.spec?.finalizers)) errs.push(...validateKubeFinalizerName(f, 'spec.finalizers'));
  return errs;
}

export function validateNamespaceUpdate(nsObj: Namespace, old: Namespace): Errs {
  return validateObjectMetaUpdate(nsObj.metadata, old.metadata);
}

export function validateNamespaceStatusUpdate(nsObj: Namespace, old: Namespace): Errs {
  const errs = validateObjectMetaUpdate(nsObj.metadata, old.metadata);
  const phase = nsObj.status?.phase;
  if (!nsObj.metadata?.deletionTimestamp) {
    if (phase !== 'Active') errs.push(fieldErrors.invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty"));
  } else if (phase !== 'Terminating') {
    errs.push(fieldErrors.invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

// ---- Node ----

function validateTaints(node: Node): Errs {
  const errs: Errs = [];
  const seen = new Set<string>();
  asArray(node.spec?.taints).forEach((t, i) => {
    const p = index('spec.taints', i);
    errs.push(...validateQualifiedName(t.key ?? '', child(p, 'key')));
    const vm = isValidLabelValue(t.value ?? '');
    if (vm.length) errs.push(fieldErrors.invalid(child(p, 'value'), t.value ?? '', vm.join(';')));
    errs.push(...validateEnum(t.effect, child(p, 'effect'), ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    const k = `${t.effect}\u0000${t.key}`;
    if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: p, badValue: t, detail: 'taints must be unique by key and effect pair' });
    seen.add(k);
  });
  return errs;
}

function validateNodeCommon(node: Node): Errs {
  const errs: Errs = [];
  errs.push(...validateTaints(node));
  const cidrs = asArray(node.spec?.podCIDRs);
  cidrs.forEach((c, i) => {
    if (!isValidCIDR(c)) errs.push(fieldErrors.invalid(index('spec.podCIDRs', i), c, 'must be a valid CIDR'));
  });
  if (cidrs.length > 2) errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  if (node.spec?.podCIDR && cidrs.length > 0 && cidrs[0] !== node.spec.podCIDR) {
    errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'first value must match `podCIDR`'));
  }
  for (const f of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of Object.entries(asMap(node.status?.[f]))) {
      errs.push(...validateResourceQuantityValue(k, v, child('status', f, k)).errs);
    }
  }
  return errs;
}

export function validateNode(node: Node): Errs {
  return [...validateObjectMeta(node.metadata, { namespaced: false, nameValidator: nameIsDNSSubdomain }), ...validateNodeCommon(node)];
}

export function validateNodeUpdate(node: Node, old: Node): Errs {
  const errs = validateObjectMetaUpdate(node.metadata, old.metadata);
  errs.push(...validateNodeCommon(node));
  const oc = asArray(old.spec?.podCIDRs);
  const nc = asArray(node.spec?.podCIDRs);
  if (oc.length > 0 && (oc.length !== nc.length || oc.some((c, i) => c !== nc[i]))) {
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

// ---- ConfigMap, Secret, ServiceAccount ----

export const MAX_SECRET_SIZE = 1024 * 1024;

export function validateConfigMap(cm: ConfigMap): Errs {
  const errs = validateObjectMeta(cm.metadata, ns);
  let total = 0;
  const binary = asMap(cm.binaryData);
  for (const [k, v] of Object.entries(asMap(cm.data))) {
    const p = key('data', k);
    errs.push(...msgsToInvalid(isConfigMapKey(k), p, k));
    if (Object.hasOwn(binary, k)) errs.push(fieldErrors.invalid(p, k, 'duplicate of key present in binaryData'));
    total += byteLength(String(v ?? ''));
  }
  for (const [k, v] of Object.entries(binary)) {
    errs.push(...msgsToInvalid(isConfigMapKey(k), key('binaryData', k), k));
    total += Buffer.from(String(v ?? ''), 'base64').length;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('', '', MAX_SECRET_SIZE));
  return errs;
}

const IMMUTABLE_SET = 'field is immutable when `immutable` is set';

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): Errs {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata);
  if (old.immutable) {
    if (!cm.immutable) errs.push(fieldErrors.forbidden('immutable', IMMUTABLE_SET));
    if (!deepEqual(cm.data ?? {}, old.data ?? {})) errs.push(fieldErrors.forbidden('data', IMMUTABLE_SET));
    if (!deepEqual(cm.binaryData ?? {}, old.binaryData ?? {})) errs.push(fieldErrors.forbidden('binaryData', IMMUTABLE_SET));
  }
  errs.push(...validateConfigMap(cm).filter((e) => !e.field.startsWith('metadata')));
  return errs;
}

function secretData(s: Secret): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(asMap(s.data))) out.set(k, Buffer.from(String(v ?? ''), 'base64').length);
  for (const [k, v] of Object.entries(asMap(s.stringData))) out.set(k, byteLength(String(v ?? '')));
  return out;
}

export function validateSecret(s: Secret): Errs {
  const errs = validateObjectMeta(s.metadata, ns);
  const data = secretData(s);
  let total = 0;
  for (const [k, size] of data) {
    errs.push(...msgsToInvalid(isConfigMapKey(k), key('data', k), k));
    total += size;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('data', '', MAX_SECRET_SIZE));
  const raw = (k: string): string | undefined => {
    const sd = asMap(s.stringData)[k];
    if (typeof sd === 'string') return sd;
    const d = asMap(s.data)[k];
    return typeof d === 'string' ? Buffer.from(d, 'base64').toString('utf8') : undefined;
  };
  const requireJSON = (k: string) => {
    const v = raw(k);
    if (v === undefined) {
      errs.push(fieldErrors.required(key('data', k), ''));
      return;
    }
    try {
      const parsed: unknown = JSON.parse(v);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
    } catch (e) {
      errs.push(fieldErrors.invalid(key('data', k), '<secret contents redacted>', e instanceof Error ? e.message : String(e)));
    }
  };
  switch (s.type ?? '') {
    case 'kubernetes.io/service-account-token':
      if (!s.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fieldErrors.required(key('metadata.annotations', 'kubernetes.io/service-account.name'), ''));
      }
      break;
    case 'kubernetes.io/dockercfg':
      requireJSON('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      requireJSON('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      if (!data.has('username') && !data.has('password')) {
        errs.push(fieldErrors.required(key('data', 'username'), ''), fieldErrors.required(key('data', 'password'), ''));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data.get('ssh-privatekey')) errs.push(fieldErrors.required(key('data', 'ssh-privatekey'), ''));
      break;
    case 'kubernetes.io/tls':
      if (!data.has('tls.crt')) errs.push(fieldErrors.required(key('data', 'tls.crt'), ''));
      if (!data.has('tls.key')) errs.push(fieldErrors.required(key('data', 'tls.key'), ''));
      break;
    default:
      break;
  }
  return errs;
}

export function validateSecretUpdate(s: Secret, old: Secret): Errs {
  const errs = validateObjectMetaUpdate(s.metadata, old.metadata);
  errs.push(...immutable(s.type ?? '', old.type ?? '', 'type'));
  if (old.immutable) {
    if (!s.immutable) errs.push(fieldErrors.forbidden('immutable', IMMUTABLE_SET));
    if (!deepEqual(s.data ?? {}, old.data ?? {}) || Object.keys(asMap(s.stringData)).length > 0) errs.push(fieldErrors.forbidden('data', IMMUTABLE_SET));
  }
  errs.push(...validateSecret(s).filter((e) => !e.field.startsWith('metadata') || e.field.startsWith('metadata.annotations[')));
  return errs;
}

export function validateServiceAccount(sa: ServiceAccount): Errs {
  const errs = validateObjectMeta(sa.metadata, ns);
  asArray(sa.secrets).forEach((r, i) => {
    if (r?.name) errs.push(...validateDNS1123Subdomain(r.name, child(index('secrets', i), 'name')));
  });
  return errs;
}

// ---- Event (core/v1 and, via index.ts, events.k8s.io/v1) ----

/** Upstream validates both Event APIs on the internal shape; `v` gives the field names of the request's API. */
interface EventView {
  namespace: string;
  involvedNamespace: string;
  eventTime?: string | null;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  message?: string;
  type?: string;
}

export function validateEventCommon(ev: EventView, newAPI: boolean, reportingControllerField = 'reportingController'): Errs {
  const errs: Errs = [];
  const involvedPath = 'involvedObject.namespace';
  if (!ev.eventTime && !newAPI) {
    if (!ev.involvedNamespace) {
      if (ev.namespace !== '' && ev.namespace !== 'default') errs.push(fieldErrors.invalid(involvedPath, ev.involvedNamespace, 'does not match event.namespace'));
    } else if (ev.namespace !== ev.involvedNamespace) {
      errs.push(fieldErrors.invalid(involvedPath, ev.involvedNamespace, 'does not match event.namespace'));
    }
  } else {
    if (!ev.involvedNamespace && ev.namespace !== 'default' && ev.namespace !== 'kube-system' && ev.namespace !== ev.involvedNamespace) {
      errs.push(fieldErrors.invalid(involvedPath, ev.involvedNamespace, 'does not match event.namespace'));
    }
    if (!ev.reportingController) errs.push(fieldErrors.required(reportingControllerField, ''));
    errs.push(...validateQualifiedName(ev.reportingController ?? '', reportingControllerField));
    if (!ev.reportingInstance) errs.push(fieldErrors.required('reportingInstance', ''));
    if (byteLength(ev.reportingInstance ?? '') > 128) errs.push(fieldErrors.invalid('reportingInstance', '', 'can have at most 128 characters'));
    if (!ev.action) errs.push(fieldErrors.required('action', ''));
    if (byteLength(ev.action ?? '') > 128) errs.push(fieldErrors.invalid('action', '', 'can have at most 128 characters'));
    if (!ev.reason) errs.push(fieldErrors.required('reason', ''));
    if (byteLength(ev.reason ?? '') > 128) errs.push(fieldErrors.invalid('reason', '', 'can have at most 128 characters'));
    if (byteLength(ev.message ?? '') > 1024) errs.push(fieldErrors.invalid('message', '', 'can have at most 1024 characters'));
  }
  if (newAPI) {
    if (!ev.eventTime) errs.push(fieldErrors.required('eventTime', ''));
    if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(fieldErrors.invalid('type', '', `has invalid value: ${ev.type ?? ''}`));
  }
  errs.push(...msgsToInvalid(isDNS1123Subdomain(ev.namespace), 'namespace', ev.namespace));
  return errs;
}

export function validateCoreEvent(ev: Event): Errs {
  const errs = validateObjectMeta(ev.metadata, ns);
  errs.push(
    ...validateEventCommon(
      {
        namespace: ev.metadata?.namespace ?? '',
        involvedNamespace: ev.involvedObject?.namespace ?? '',
        eventTime: ev.eventTime,
        reportingController: ev.reportingComponent,
        reportingInstance: ev.reportingInstance,
        action: ev.action,
        reason: ev.reason,
        message: ev.message,
        type: ev.type,
      },
      false,
    ),
  );
  return errs;
}

export function validateCoreEventUpdate(ev: Event, old: Event): Errs {
  const errs = validateObjectMetaUpdate(ev.metadata, old.metadata);
  errs.push(...validateCoreEvent(ev).filter((e) => !e.field.startsWith('metadata')));
  for (const f of ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'action', 'reportingComponent', 'reportingInstance', 'type', 'eventTime', 'related'] as const) {
    const path = f === 'reportingComponent' ? 'reportingController' : f;
    errs.push(...immutable(ev[f] ?? null, old[f] ?? null, path));
  }
  return errs;
}

// ---- ReplicationController ----

export function validateReplicationController(rc: ReplicationController): Errs {
  const errs = validateObjectMeta(rc.metadata, ns);
  errs.push(...validateRCSpec(rc));
  return errs;
}

function validateRCSpec(rc: ReplicationController): Errs {
  const spec = rc.spec ?? {};
  const errs: Errs = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const sel = asMap(spec.selector) as Record<string, string>;
  if (Object.keys(sel).length === 0) errs.push(fieldErrors.required('spec.selector', ''));
  else errs.push(...validateLabels(sel, 'spec.selector'));
  const tmpl = spec.template;
  if (!tmpl) {
    errs.push(fieldErrors.required('spec.template', ''));
    return errs;
  }
  const labels = tmpl.metadata?.labels ?? {};
  if (Object.keys(sel).length > 0 && !Object.entries(sel).every(([k, v]) => labels[k] === v)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(tmpl, 'spec.template'));
  if (tmpl.spec?.restartPolicy !== 'Always') errs.push(fieldErrors.notSupported('spec.template.spec.restartPolicy', tmpl.spec?.restartPolicy ?? '', ['Always']));
  if (tmpl.spec?.activeDeadlineSeconds !== undefined && tmpl.spec.activeDeadlineSeconds !== null) {
    errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

export function validateReplicationControllerUpdate(rc: ReplicationController, old: ReplicationController): Errs {
  return [...validateObjectMetaUpdate(rc.metadata, old.metadata), ...validateRCSpec(rc)];
}

/** Shared by RC, ReplicaSet: counts non-negative and bounded by status.replicas. */
export function validateReplicaCounts(st: Record<string, unknown> | undefined, path = 'status'): Errs {
  const s = st ?? {};
  const errs: Errs = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) {
    errs.push(...nonNegative(s[f], child(path, f)));
  }
  const n = (f: string) => (typeof s[f] === 'number' ? (s[f] as number) : 0);
  const msg = 'cannot be greater than status.replicas';
  if (n('fullyLabeledReplicas') > n('replicas')) errs.push(fieldErrors.invalid(child(path, 'fullyLabeledReplicas'), n('fullyLabeledReplicas'), msg));
  if (n('readyReplicas') > n('replicas')) errs.push(fieldErrors.invalid(child(path, 'readyReplicas'), n('readyReplicas'), msg));
  if (n('availableReplicas') > n('replicas')) errs.push(fieldErrors.invalid(child(path, 'availableReplicas'), n('availableReplicas'), msg));
  if (n('availableReplicas') > n('readyReplicas')) errs.push(fieldErrors.invalid(child(path, 'availableReplicas'), n('availableReplicas'), 'cannot be greater than readyReplicas'));
  return errs;
}

// ---- LimitRange, ResourceQuota ----

export function validateLimitRange(lr: LimitRange): Errs {
  const errs = validateObjectMeta(lr.metadata, ns);
  const seenTypes = new Set<string>();
  asArray(lr.spec?.limits).forEach((item, i) => {
    const p = index('spec.limits', i);
    const type = item.type ?? '';
    if (seenTypes.has(type)) errs.push(fieldErrors.duplicate(child(p, 'type'), type));
    seenTypes.add(type);
    const maps: Record<string, Map<string, Quantity>> = {};
    for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) {
      maps[f] = new Map();
      for (const [k, v] of Object.entries(asMap(item[f]))) {
        const kp = key(child(p, f), k);
        errs.push(...validateResourceName(k, kp));
        const { q, errs: qe } = validateResourceQuantityValue(k, v, kp);
        errs.push(...qe);
        if (q) maps[f]!.set(k, q);
      }
    }
    if (type === 'Pod') {
      if (maps.default!.size) errs.push(fieldErrors.forbidden(child(p, 'default'), "may not be specified when `type` is 'Pod'"));
      if (maps.defaultRequest!.size) errs.push(fieldErrors.forbidden(child(p, 'defaultRequest'), "may not be specified when `type` is 'Pod'"));
    }
    const keys = new Set([...maps.max!.keys(), ...maps.min!.keys(), ...maps.default!.keys(), ...maps.defaultRequest!.keys()]);
    for (const k of keys) {
      const mn = maps.min!.get(k);
      const mx = maps.max!.get(k);
      const df = maps.default!.get(k);
      const dr = maps.defaultRequest!.get(k);
      const s = (q: Quantity) => quantityString(q);
      if (mn && mx && mn.cmp(mx) > 0) errs.push(fieldErrors.invalid(key(child(p, 'min'), k), s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
      if (dr && mn && mn.cmp(dr) > 0) errs.push(fieldErrors.invalid(key(child(p, 'defaultRequest'), k), s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
      if (dr && mx && dr.cmp(mx) > 0) errs.push(fieldErrors.invalid(key(child(p, 'defaultRequest'), k), s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
      if (dr && df && dr.cmp(df) > 0) errs.push(fieldErrors.invalid(key(child(p, 'defaultRequest'), k), s(dr), `default request value ${s(dr)} is greater than default limit value ${s(df)}`));
      if (df && mn && mn.cmp(df) > 0) errs.push(fieldErrors.invalid(key(child(p, 'default'), k), s(mn), `min value ${s(mn)} is greater than default value ${s(df)}`));
      if (df && mx && df.cmp(mx) > 0) errs.push(fieldErrors.invalid(key(child(p, 'default'), k), s(mx), `default value ${s(df)} is greater than max value ${s(mx)}`));
    }
  });
  return errs;
}

const STANDARD_QUOTA_RESOURCES = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports',
  'services.loadbalancers', 'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage',
  'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);

function validateQuotaResourceName(name: string, path: string): Errs {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !STANDARD_QUOTA_RESOURCES.has(name) && !/^(requests\.)?hugepages-/.test(name)) {
    errs.push(fieldErrors.invalid(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];

function validateQuotaSpec(rq: ResourceQuota): Errs {
  const errs = validateResourceList(rq.spec?.hard, 'spec.hard', validateQuotaResourceName);
  const scopes = asArray(rq.spec?.scopes);
  if (scopes.some((s) => !QUOTA_SCOPES.includes(s))) errs.push(fieldErrors.invalid('spec.scopes', scopes, 'unsupported scope'));
  if ((scopes.includes('Terminating') && scopes.includes('NotTerminating')) || (scopes.includes('BestEffort') && scopes.includes('NotBestEffort'))) {
    errs.push(fieldErrors.invalid('spec.scopes', scopes, 'conflicting scopes'));
  }
  return errs;
}

function validateQuotaStatus(rq: ResourceQuota): Errs {
  return [
    ...validateResourceList(rq.status?.hard, 'status.hard', validateQuotaResourceName),
    ...validateResourceList(rq.status?.used, 'status.used', validateQuotaResourceName),
  ];
}

export function validateResourceQuota(rq: ResourceQuota): Errs {
  return [...validateObjectMeta(rq.metadata, ns), ...validateQuotaSpec(rq), ...validateQuotaStatus(rq)];
}

export function validateResourceQuotaUpdate(rq: ResourceQuota, old: ResourceQuota): Errs {
  const errs = [...validateObjectMetaUpdate(rq.metadata, old.metadata), ...validateQuotaSpec(rq)];
  const os = [...asArray(old.spec?.scopes)].sort();
  const nsc = [...asArray(rq.spec?.scopes)].sort();
  if (!deepEqual(os, nsc)) errs.push(fieldErrors.invalid('spec.scopes', rq.spec?.scopes ?? [], IMMUTABLE_FIELD));
  return errs;
}

const IMMUTABLE_FIELD = 'field is immutable';

export function validateResourceQuotaStatusUpdate(rq: ResourceQuota, old: ResourceQuota): Errs {
  return [...validateObjectMetaUpdate(rq.metadata, old.metadata), ...validateQuotaStatus(rq)];
}

// ---- Binding ----

export function validateBinding(b: Binding): Errs {
  const errs = validateObjectMeta(b.metadata, ns);
  if (b.target?.kind && b.target.kind !== 'Node') errs.push(fieldErrors.invalid('target.kind', b.target.kind, "must be empty or 'Node'"));
  if (!b.target?.name) errs.push(fieldErrors.required('target.name', ''));
  return errs;
}

