// Pod and pod template validation, as upstream's pkg/apis/core/validation (ValidatePodSpec and friends):
// containers, ports, env, volumes and mounts, resources, probes, tolerations, DNS, and the pod update
// rule that only images, activeDeadlineSeconds, tolerations additions and a few others may change.
import type { Container, Pod, PodSpec, PodTemplateSpec, Probe, Toleration, Volume } from 'kubernetes-types/core/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import type { Quantity } from '../quantity.js';
import { validateAnnotations, validateObjectMeta, validateObjectMetaUpdate, nameIsDNSSubdomain } from './meta.js';
import { inclusiveRangeError, ipFamily, isConfigMapKey, isDNS1123Subdomain, isRelaxedEnvVarName, isValidIP, isValidLabelValue, isValidPortName, isValidPortNum } from './names.js';
import {
  asArray,
  asMap,
  child,
  deepEqual,
  index,
  isOvercommitAllowed,
  key,
  msgsToInvalid,
  nonNegative,
  quantityString,
  validateContainerResourceName,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateEnum,
  validateLabels,
  validateOptionalEnum,
  validatePortNumOrName,
  validateQualifiedName,
  validateResourceQuantityValue,
} from './util.js';

type Errs = FieldError[];

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'] as const;
const MAX_INT32 = 2147483647;

// ---- volumes ----

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
] as const;

function validateDefaultMode(mode: unknown, path: string): Errs {
  if (mode === undefined || mode === null) return [];
  if (typeof mode !== 'number' || mode < 0 || mode > 0o777) {
    return [fieldErrors.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
  }
  return [];
}

function validateLocalDescendingPath(p: string, path: string): Errs {
  const errs: Errs = [];
  if (p.startsWith('/')) errs.push(fieldErrors.invalid(path, p, 'must be a relative path'));
  if (p.split(/[\\/]/).includes('..')) errs.push(fieldErrors.invalid(path, p, "must not contain '..'"));
  return errs;
}

function validateKeyToPaths(items: unknown, path: string): Errs {
  const errs: Errs = [];
  asArray(items as { key?: string; path?: string; mode?: number }[]).forEach((it, i) => {
    const p = index(path, i);
    if (!it?.key) errs.push(fieldErrors.required(child(p, 'key'), ''));
    if (!it?.path) errs.push(fieldErrors.required(child(p, 'path'), ''));
    else errs.push(...validateLocalNonReservedPath(it.path, child(p, 'path')));
    errs.push(...validateDefaultMode(it?.mode, child(p, 'mode')));
  });
  return errs;
}

function validateLocalNonReservedPath(p: string, path: string): Errs {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..')) errs.push(fieldErrors.invalid(path, p, "must not start with '..'"));
  return errs;
}

function validateVolumeSource(vol: Volume, path: string): Errs {
  const errs: Errs = [];
  const present = VOLUME_SOURCES.filter((s) => (vol as unknown as Record<string, unknown>)[s] !== undefined && (vol as unknown as Record<string, unknown>)[s] !== null);
  if (present.length === 0) return [fieldErrors.required(path, 'must specify a volume type')];
  if (present.length > 1) errs.push(fieldErrors.forbidden(child(path, present[1]!), 'may not specify more than 1 volume type'));
  const src = present[0]!;
  const sp = child(path, src);
  const v = asMap((vol as unknown as Record<string, unknown>)[src]);
  switch (src) {
    case 'hostPath':
      if (!v.path) errs.push(fieldErrors.required(child(sp, 'path'), ''));
      errs.push(
        ...validateOptionalEnum(v.type === '' ? undefined : v.type, child(sp, 'type'), ['DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']),
      );
      break;
    case 'emptyDir':
      errs.push(...validateOptionalEnum(v.medium === '' ? undefined : v.medium, child(sp, 'medium'), ['Memory', 'HugePages']));
      if (v.sizeLimit !== undefined) errs.push(...validateResourceQuantityValue('ephemeral-storage', v.sizeLimit, child(sp, 'sizeLimit')).errs);
      break;
    case 'secret':
      if (!v.secretName) errs.push(fieldErrors.required(child(sp, 'secretName'), ''));
      errs.push(...validateDefaultMode(v.defaultMode, child(sp, 'defaultMode')));
      errs.push(...validateKeyToPaths(v.items, child(sp, 'items')));
      break;
    case 'configMap':
      if (!v.name) errs.push(fieldErrors.required(child(sp, 'name'), ''));
      else errs.push(...msgsToInvalid(nameIsDNSSubdomain(v.name as string, false), child(sp, 'name'), v.name));
      errs.push(...validateDefaultMode(v.defaultMode, child(sp, 'defaultMode')));
      errs.push(...validateKeyToPaths(v.items, child(sp, 'items')));
      break;
    case 'persistentVolumeClaim':
      if (!v.claimName) errs.push(fieldErrors.required(child(sp, 'claimName'), ''));
      break;
    case 'nfs':
      if (!v.server) errs.push(fieldErrors.required(child(sp, 'server'), ''));
      if (!v.path) errs.push(fieldErrors.required(child(sp, 'path'), ''));
      else if (!(v.path as string).startsWith('/')) errs.push(fieldErrors.invalid(child(sp, 'path'), v.path, 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateDefaultMode(v.defaultMode, child(sp, 'defaultMode')));
      asArray(v.items as { path?: string; fieldRef?: unknown; resourceFieldRef?: unknown }[]).forEach((it, i) => {
        const ip = index(child(sp, 'items'), i);
        if (!it?.path) errs.push(fieldErrors.required(child(ip, 'path'), ''));
        else errs.push(...validateLocalNonReservedPath(it.path, child(ip, 'path')));
      });
      break;
    case 'projected':
      errs.push(...validateDefaultMode(v.defaultMode, child(sp, 'defaultMode')));
      break;
    default:
      break;
  }
  return errs;
}

/** Returns the errors and the names of the well-formed volumes (those volume mounts may reference). */
function validateVolumes(volumes: Volume[] | undefined, path: string): { errs: Errs; names: Set<string> } {
  const errs: Errs = [];
  const names = new Set<string>();
  asArray(volumes).forEach((vol, i) => {
    const p = index(path, i);
    const namePath = child(p, 'name');
    const el = validateVolumeSource(vol ?? ({} as Volume), p);
    if (!vol?.name) el.push(fieldErrors.required(namePath, ''));
    else el.push(...validateDNS1123Label(vol.name, namePath));
    if (vol?.name && names.has(vol.name)) el.push(fieldErrors.duplicate(namePath, vol.name));
    if (el.length === 0) names.add(vol.name);
    else errs.push(...el);
  });
  return { errs, names };
}

// ---- containers ----

function validateContainerPorts(ports: Container['ports'], path: string): Errs {
  const errs: Errs = [];
  const names = new Set<string>();
  asArray(ports).forEach((port, i) => {
    const p = index(path, i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...msgsToInvalid(msgs, child(p, 'name'), port.name));
      else if (names.has(port.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(fieldErrors.required(child(p, 'containerPort'), ''));
    else errs.push(...msgsToInvalid(isValidPortNum(port.containerPort), child(p, 'containerPort'), port.containerPort));
    if (port.hostPort) errs.push(...msgsToInvalid(isValidPortNum(port.hostPort), child(p, 'hostPort'), port.hostPort));
    errs.push(...validateEnum(port.protocol, child(p, 'protocol'), PORT_PROTOCOLS));
    if (port.hostIP) errs.push(...msgsToInvalid(isValidIP(port.hostIP), child(p, 'hostIP'), port.hostIP));
  });
  return errs;
}

const DOWNWARD_ENV_FIELDS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs',
];

function validateEnv(env: Container['env'], path: string): Errs {
  const errs: Errs = [];
  asArray(env).forEach((ev, i) => {
    const p = index(path, i);
    const name = ev?.name ?? '';
    if (!name) errs.push(fieldErrors.required(child(p, 'name'), ''));
    errs.push(...msgsToInvalid(isRelaxedEnvVarName(name), child(p, 'name'), name));
    const vf = ev?.valueFrom;
    if (!vf) return;
    const vp = child(p, 'valueFrom');
    let n = 0;
    if (vf.fieldRef) {
      n++;
      const fp = child(vp, 'fieldRef');
      if (!vf.fieldRef.apiVersion) errs.push(fieldErrors.required(child(fp, 'apiVersion'), ''));
      const f = vf.fieldRef.fieldPath;
      if (!f) errs.push(fieldErrors.required(child(fp, 'fieldPath'), ''));
      else if (!DOWNWARD_ENV_FIELDS.includes(f) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(f)) {
        errs.push(fieldErrors.notSupported(child(fp, 'fieldPath'), f, [...DOWNWARD_ENV_FIELDS, 'metadata.annotations', 'metadata.labels'].sort()));
      }
    }
    if (vf.resourceFieldRef) {
      n++;
      if (!vf.resourceFieldRef.resource) errs.push(fieldErrors.required(child(vp, 'resourceFieldRef', 'resource'), ''));
    }
    for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = vf[k];
      if (!ref) continue;
      n++;
      const rp = child(vp, k);
      if (!ref.name) errs.push(fieldErrors.required(child(rp, 'name'), ''));
      else errs.push(...msgsToInvalid(isDNS1123Subdomain(ref.name), child(rp, 'name'), ref.name));
      if (!ref.key) errs.push(fieldErrors.required(child(rp, 'key'), ''));
      else errs.push(...msgsToInvalid(isConfigMapKey(ref.key), child(rp, 'key'), ref.key));
    }
    if (n === 0) errs.push(fieldErrors.invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (ev.value) errs.push(fieldErrors.invalid(vp, '', 'may not be specified when `value` is not empty'));
    if (n > 1) errs.push(fieldErrors.invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: Container['envFrom'], path: string): Errs {
  const errs: Errs = [];
  asArray(envFrom).forEach((ef, i) => {
    const p = index(path, i);
    if (ef?.prefix) errs.push(...msgsToInvalid(isRelaxedEnvVarName(ef.prefix), child(p, 'prefix'), ef.prefix));
    let n = 0;
    for (const k of ['configMapRef', 'secretRef'] as const) {
      const ref = ef?.[k];
      if (!ref) continue;
      n++;
      if (!ref.name) errs.push(fieldErrors.required(child(p, k, 'name'), ''));
      else errs.push(...msgsToInvalid(isDNS1123Subdomain(ref.name), child(p, k, 'name'), ref.name));
    }
    if (n === 0) errs.push(fieldErrors.invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    if (n > 1) errs.push(fieldErrors.invalid(p, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: Container['volumeMounts'], volumes: Set<string>, path: string): Errs {
  const errs: Errs = [];
  const mountpoints = new Set<string>();
  asArray(mounts).forEach((m, i) => {
    const p = index(path, i);
    if (!m?.name) errs.push(fieldErrors.required(child(p, 'name'), ''));
    if (!volumes.has(m?.name ?? '')) errs.push(fieldErrors.notFound(child(p, 'name'), m?.name ?? ''));
    if (!m?.mountPath) errs.push(fieldErrors.required(child(p, 'mountPath'), ''));
    if (mountpoints.has(m?.mountPath ?? '')) errs.push(fieldErrors.invalid(child(p, 'mountPath'), m?.mountPath ?? '', 'must be unique'));
    mountpoints.add(m?.mountPath ?? '');
    if (m?.subPath) errs.push(...validateLocalDescendingPath(m.subPath, child(path, 'subPath')));
    if (m?.subPath && m.subPathExpr) errs.push(fieldErrors.invalid(child(p, 'subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
    errs.push(...validateOptionalEnum(m?.mountPropagation, child(p, 'mountPropagation'), ['None', 'HostToContainer', 'Bidirectional']));
  });
  return errs;
}

/** Upstream ValidateResourceRequirements: names, quantities, and each request within its limit. */
export function validateResourceRequirements(resources: Container['resources'], path: string): Errs {
  const errs: Errs = [];
  const limPath = child(path, 'limits');
  const reqPath = child(path, 'requests');
  const limits = new Map<string, Quantity>();
  for (const [name, value] of Object.entries(asMap(resources?.limits))) {
    const p = key(limPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const { q, errs: qe } = validateResourceQuantityValue(name, value, p);
    errs.push(...qe);
    if (q) limits.set(name, q);
  }
  for (const [name, value] of Object.entries(asMap(resources?.requests))) {
    const p = key(reqPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const { q, errs: qe } = validateResourceQuantityValue(name, value, p);
    errs.push(...qe);
    if (!q) continue;
    const lim = limits.get(name);
    if (lim) {
      const c = q.cmp(lim);
      if (c !== 0 && !isOvercommitAllowed(name)) {
        errs.push(fieldErrors.invalid(reqPath, quantityString(q), `must be equal to ${name} limit of ${quantityString(lim)}`));
      } else if (c > 0) {
        errs.push(fieldErrors.invalid(reqPath, quantityString(q), `must be less than or equal to ${name} limit of ${quantityString(lim)}`));
      }
    } else if (!isOvercommitAllowed(name) && !Object.hasOwn(asMap(resources?.limits), name)) {
      errs.push(fieldErrors.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

function validateHandler(h: Record<string, unknown> | undefined, path: string, kinds: readonly string[]): Errs {
  const errs: Errs = [];
  const present = kinds.filter((k) => h?.[k] !== undefined && h?.[k] !== null);
  if (present.length === 0) return [fieldErrors.required(path, 'must specify a handler type')];
  if (present.length > 1) errs.push(fieldErrors.forbidden(child(path, present[1]!), 'may not specify more than 1 handler type'));
  const k = present[0]!;
  const v = asMap(h![k]);
  const p = child(path, k);
  switch (k) {
    case 'exec':
      if (asArray(v.command as string[]).length === 0) errs.push(fieldErrors.required(child(p, 'command'), ''));
      break;
    case 'httpGet':
      if (!v.path) errs.push(fieldErrors.required(child(p, 'path'), ''));
      errs.push(...validatePortNumOrName(v.port, child(p, 'port')));
      if (v.scheme !== undefined) errs.push(...validateEnum(v.scheme, child(p, 'scheme'), ['HTTP', 'HTTPS']));
      break;
    case 'tcpSocket':
      errs.push(...validatePortNumOrName(v.port, child(p, 'port')));
      break;
    case 'grpc':
      errs.push(...msgsToInvalid(isValidPortNum(v.port as number), child(p, 'port'), v.port));
      break;
    case 'sleep':
      if (typeof v.seconds === 'number' && v.seconds < 0) errs.push(fieldErrors.invalid(child(p, 'seconds'), v.seconds, 'must be non-negative'));
      break;
  }
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;

function validateProbe(probe: Probe | undefined, path: string): Errs {
  if (!probe) return [];
  const errs = validateHandler(probe as unknown as Record<string, unknown>, path, PROBE_HANDLERS);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...nonNegative(probe[f], child(path, f)));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(fieldErrors.invalid(child(path, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  return errs;
}

function validateProbes(ctr: Container, path: string): Errs {
  const errs: Errs = [];
  errs.push(...validateProbe(ctr.livenessProbe, child(path, 'livenessProbe')));
  if (ctr.livenessProbe && ctr.livenessProbe.successThreshold !== undefined && ctr.livenessProbe.successThreshold !== 1) {
    errs.push(fieldErrors.invalid(child(path, 'livenessProbe', 'successThreshold'), ctr.livenessProbe.successThreshold, 'must be 1'));
  }
  errs.push(...validateProbe(ctr.readinessProbe, child(path, 'readinessProbe')));
  if (ctr.readinessProbe?.terminationGracePeriodSeconds !== undefined) {
    errs.push(fieldErrors.invalid(child(path, 'readinessProbe', 'terminationGracePeriodSeconds'), ctr.readinessProbe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  errs.push(...validateProbe(ctr.startupProbe, child(path, 'startupProbe')));
  if (ctr.startupProbe && ctr.startupProbe.successThreshold !== undefined && ctr.startupProbe.successThreshold !== 1) {
    errs.push(fieldErrors.invalid(child(path, 'startupProbe', 'successThreshold'), ctr.startupProbe.successThreshold, 'must be 1'));
  }
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = ctr.lifecycle?.[hook];
    if (h) errs.push(...validateHandler(h as unknown as Record<string, unknown>, child(path, 'lifecycle', hook), ['exec', 'httpGet', 'tcpSocket', 'sleep']));
  }
  return errs;
}

function validateContainerCommon(ctr: Container, volumes: Set<string>, path: string): Errs {
  const errs: Errs = [];
  const namePath = child(path, 'name');
  if (!ctr.name) errs.push(fieldErrors.required(namePath, ''));
  else errs.push(...validateDNS1123Label(ctr.name, namePath));
  if (typeof ctr.image === 'string' && ctr.image.length !== ctr.image.trim().length) {
    errs.push(fieldErrors.invalid(child(path, 'image'), ctr.image, 'must not have leading or trailing whitespace'));
  }
  errs.push(...validateEnum(ctr.imagePullPolicy, child(path, 'imagePullPolicy'), PULL_POLICIES));
  errs.push(...validateOptionalEnum(ctr.terminationMessagePolicy, child(path, 'terminationMessagePolicy'), TERMINATION_MESSAGE_POLICIES));
  errs.push(...validateContainerPorts(ctr.ports, child(path, 'ports')));
  errs.push(...validateEnv(ctr.env, child(path, 'env')));
  errs.push(...validateEnvFrom(ctr.envFrom, child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(ctr.volumeMounts, volumes, child(path, 'volumeMounts')));
  errs.push(...validateResourceRequirements(ctr.resources, child(path, 'resources')));
  return errs;
}

function validateHostPorts(containers: Container[], path: string, seen: Set<string>): Errs {
  const errs: Errs = [];
  containers.forEach((ctr, ci) => {
    asArray(ctr.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const k = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(k)) errs.push(fieldErrors.duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), k));
      seen.add(k);
    });
  });
  return errs;
}

function validateContainers(containers: Container[] | undefined, volumes: Set<string>, path: string, names: Set<string>): Errs {
  const list = asArray(containers);
  if (list.length === 0) return [fieldErrors.required(path, '')];
  const errs: Errs = [];
  list.forEach((ctr, i) => {
    const p = index(path, i);
    const c = ctr ?? ({} as Container);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (c.name && names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else if (c.name) names.add(c.name);
    if (!c.image) errs.push(fieldErrors.required(child(p, 'image'), ''));
    errs.push(...validateProbes(c, p));
    if (c.restartPolicy !== undefined) errs.push(fieldErrors.forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...validateHostPorts(list, path, new Set()));
  return errs;
}

function validateInitContainers(containers: Container[] | undefined, volumes: Set<string>, path: string, names: Set<string>): Errs {
  const errs: Errs = [];
  asArray(containers).forEach((ctr, i) => {
    const p = index(path, i);
    const c = ctr ?? ({} as Container);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (c.name && names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else if (c.name) names.add(c.name);
    if (!c.image) errs.push(fieldErrors.required(child(p, 'image'), ''));
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') {
      errs.push(fieldErrors.notSupported(child(p, 'restartPolicy'), c.restartPolicy, ['Always']));
    }
    if (c.restartPolicy === 'Always') {
      errs.push(...validateProbes(c, p));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[f] !== undefined) errs.push(fieldErrors.forbidden(child(p, f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

// ---- tolerations, DNS ----

export function validateTolerations(tolerations: Toleration[] | undefined, path: string): Errs {
  const errs: Errs = [];
  asArray(tolerations).forEach((t, i) => {
    const p = index(path, i);
    if (t.key) errs.push(...validateQualifiedName(t.key, child(p, 'key')));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(fieldErrors.invalid(child(p, 'operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      errs.push(fieldErrors.invalid(child(p, 'effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case '':
      case 'Equal':
        errs.push(...msgsToInvalid(isValidLabelValue(t.value ?? ''), child(p, 'operator'), t.value ?? ''));
        break;
      case 'Exists':
        if (t.value) errs.push(fieldErrors.invalid(child(p, 'operator'), t, 'value must be empty when `operator` is \'Exists\''));
        break;
      default:
        errs.push(fieldErrors.notSupported(child(p, 'operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect) errs.push(...validateEnum(t.effect, child(p, 'effect'), ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return errs;
}

function validateDNSConfig(spec: PodSpec, path: string): Errs {
  const errs: Errs = [];
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None' && !cfg) errs.push(fieldErrors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (!cfg) return errs;
  const ns = asArray(cfg.nameservers);
  if (spec.dnsPolicy === 'None' && ns.length === 0) {
    errs.push(fieldErrors.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  if (ns.length > 3) errs.push(fieldErrors.invalid(child(path, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...msgsToInvalid(isValidIP(n), index(child(path, 'nameservers'), i), n)));
  const searches = asArray(cfg.searches);
  if (searches.length > 32) errs.push(fieldErrors.invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  searches.forEach((s, i) => {
    const v = s.endsWith('.') ? s.slice(0, -1) : s;
    errs.push(...msgsToInvalid(isDNS1123Subdomain(v), index(child(path, 'searches'), i), s));
  });
  asArray(cfg.options).forEach((o, i) => {
    if (!o.name) errs.push(fieldErrors.required(child(index(child(path, 'options'), i), 'name'), 'Option.Name must not be empty'));
  });
  return errs;
}

// ---- pod spec ----

export function validatePodSpec(spec: PodSpec | undefined, path: string): Errs {
  const s: PodSpec = spec ?? ({} as PodSpec);
  const errs: Errs = [];
  const { errs: volErrs, names: vols } = validateVolumes(s.volumes, child(path, 'volumes'));
  errs.push(...volErrs);
  const names = new Set<string>();
  errs.push(...validateContainers(s.containers, vols, child(path, 'containers'), names));
  errs.push(...validateInitContainers(s.initContainers, vols, child(path, 'initContainers'), names));
  errs.push(...validateEnum(s.restartPolicy, child(path, 'restartPolicy'), RESTART_POLICIES));
  errs.push(...validateEnum(s.dnsPolicy, child(path, 'dnsPolicy'), DNS_POLICIES));
  errs.push(...validateLabels(s.nodeSelector, child(path, 'nodeSelector')));
  if (s.serviceAccountName) errs.push(...validateDNS1123Subdomain(s.serviceAccountName, child(path, 'serviceAccountName')));
  if (s.nodeName) errs.push(...validateDNS1123Subdomain(s.nodeName, child(path, 'nodeName')));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (v < 1 || v > MAX_INT32) errs.push(fieldErrors.invalid(child(path, 'activeDeadlineSeconds'), v, inclusiveRangeError(1, MAX_INT32)));
  }
  if (s.hostname) errs.push(...validateDNS1123Label(s.hostname, child(path, 'hostname')));
  if (s.subdomain) errs.push(...validateDNS1123Label(s.subdomain, child(path, 'subdomain')));
  errs.push(...validateTolerations(s.tolerations, child(path, 'tolerations')));
  if (s.priorityClassName) errs.push(...validateDNS1123Subdomain(s.priorityClassName, child(path, 'priorityClassName')));
  errs.push(...validateDNSConfig(s, child(path, 'dnsConfig')));
  asArray(s.imagePullSecrets).forEach((r, i) => {
    if (!r?.name) errs.push(fieldErrors.required(child(index(child(path, 'imagePullSecrets'), i), 'name'), ''));
  });
  asArray(s.hostAliases).forEach((ha, i) => {
    const p = index(child(path, 'hostAliases'), i);
    errs.push(...msgsToInvalid(isValidIP(ha.ip ?? ''), child(p, 'ip'), ha.ip ?? ''));
    asArray(ha.hostnames).forEach((h, j) => errs.push(...validateDNS1123Subdomain(h, index(child(p, 'hostnames'), j))));
  });
  if (s.hostNetwork) {
    [...asArray(s.containers), ...asArray(s.initContainers)].forEach((c, ci) => {
      asArray(c?.ports).forEach((port, pi) => {
        if (port.hostPort && port.hostPort !== port.containerPort) {
          const base = ci < asArray(s.containers).length ? index(child(path, 'containers'), ci) : index(child(path, 'initContainers'), ci - asArray(s.containers).length);
          errs.push(fieldErrors.invalid(child(index(child(base, 'ports'), pi), 'containerPort'), port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  asArray(s.schedulingGates).forEach((g, i) => errs.push(...validateQualifiedName(g?.name ?? '', child(index(child(path, 'schedulingGates'), i), 'name'))));
  return errs;
}

/** Upstream ValidatePodTemplateSpec (note: labels are checked at `<path>.labels`, as upstream does). */
export function validatePodTemplateSpec(tmpl: PodTemplateSpec | undefined, path: string): Errs {
  const errs: Errs = [];
  errs.push(...validateLabels(tmpl?.metadata?.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(tmpl?.metadata?.annotations, child(path, 'annotations')));
  errs.push(...validatePodSpec(tmpl?.spec, child(path, 'spec')));
  if (asArray(tmpl?.spec?.ephemeralContainers).length > 0) {
    errs.push(fieldErrors.forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

export function validatePod(pod: Pod): Errs {
  const errs = validateObjectMeta(pod.metadata, { namespaced: true, nameValidator: nameIsDNSSubdomain });
  errs.push(...validatePodSpec(pod.spec, 'spec'));
  if (asArray(pod.spec?.ephemeralContainers).length > 0) errs.push(fieldErrors.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (pod.spec?.nodeName && asArray(pod.spec.schedulingGates).length > 0) {
    errs.push(fieldErrors.forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

export const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than ' +
  '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` ' +
  '(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it ' +
  'was previously negative)';

/** Lists the top-level spec fields that differ, as a stand-in for upstream's cmp.Diff output. */
function specDiff(a: Record<string, unknown>, b: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const lines: string[] = [];
  for (const k of keys) {
    if (deepEqual(a[k], b[k])) continue;
    if (a[k] !== undefined) lines.push(`-   ${k}: ${JSON.stringify(a[k])}`);
    if (b[k] !== undefined) lines.push(`+   ${k}: ${JSON.stringify(b[k])}`);
  }
  return `  core.PodSpec{\n${lines.join('\n')}\n  }\n`;
}

function tolerationKey(t: Toleration): string {
  return JSON.stringify([t.key ?? '', t.operator ?? '', t.value ?? '', t.effect ?? '']);
}

export function validatePodUpdate(pod: Pod, old: Pod): Errs {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  const specPath = 'spec';
  const ns: PodSpec = pod.spec ?? ({} as PodSpec);
  const os: PodSpec = old.spec ?? ({} as PodSpec);
  errs.push(...validateContainersUpdateShape(ns, os));
  // activeDeadlineSeconds may be set, or lowered, but never removed or raised.
  if (os.activeDeadlineSeconds !== undefined && os.activeDeadlineSeconds !== null) {
    if (ns.activeDeadlineSeconds === undefined || ns.activeDeadlineSeconds === null) {
      errs.push(fieldErrors.invalid(child(specPath, 'activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
    } else if (ns.activeDeadlineSeconds > os.activeDeadlineSeconds) {
      errs.push(fieldErrors.invalid(child(specPath, 'activeDeadlineSeconds'), ns.activeDeadlineSeconds, 'must be less than or equal to previous value'));
    }
  }
  if (ns.activeDeadlineSeconds !== undefined && ns.activeDeadlineSeconds !== null && (ns.activeDeadlineSeconds < 1 || ns.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(fieldErrors.invalid(child(specPath, 'activeDeadlineSeconds'), ns.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  // Tolerations: existing ones stay (only tolerationSeconds of NoExecute ones may shrink), new ones may be added.
  const newTols = asArray(ns.tolerations);
  errs.push(...validateTolerations(newTols, child(specPath, 'tolerations')));
  const byKey = new Map(newTols.map((t) => [tolerationKey(t), t]));
  for (const ot of asArray(os.tolerations)) {
    const nt = byKey.get(tolerationKey(ot));
    if (!nt) {
      errs.push(fieldErrors.forbidden(child(specPath, 'tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
    if (ot.tolerationSeconds !== undefined && (nt.tolerationSeconds === undefined || nt.tolerationSeconds > ot.tolerationSeconds)) {
      errs.push(fieldErrors.forbidden(child(specPath, 'tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  // Everything else must be unchanged: compare with the mutable parts copied from the old spec.
  const munged: Record<string, unknown> = { ...(ns as unknown as Record<string, unknown>) };
  const withOldImages = (cs: Container[] | undefined, oldCs: Container[] | undefined) =>
    cs === undefined ? cs : cs.map((c, i) => (oldCs?.[i] ? { ...c, image: oldCs[i]!.image } : c));
  munged.containers = withOldImages(ns.containers, os.containers);
  munged.initContainers = withOldImages(ns.initContainers, os.initContainers);
  munged.activeDeadlineSeconds = os.activeDeadlineSeconds;
  munged.tolerations = os.tolerations;
  if (
    (os.terminationGracePeriodSeconds ?? 0) < 0 && ns.terminationGracePeriodSeconds === 1
  ) munged.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  // Scheduling gates may only be removed.
  const oldGates = new Set(asArray(os.schedulingGates).map((g) => g.name));
  if (asArray(ns.schedulingGates).every((g) => oldGates.has(g.name))) munged.schedulingGates = os.schedulingGates;
  // Ephemeral containers are changed through their own subresource.
  munged.ephemeralContainers = os.ephemeralContainers;
  if (!deepEqual(munged, os as unknown as Record<string, unknown>)) {
    errs.push(fieldErrors.forbidden(specPath, `${POD_UPDATE_FORBIDDEN}\n${specDiff(os as unknown as Record<string, unknown>, munged)}`));
  }
  return errs;
}

/** Images must stay present and well formed on update. */
function validateContainersUpdateShape(ns: PodSpec, os: PodSpec): Errs {
  const errs: Errs = [];
  for (const f of ['containers', 'initContainers'] as const) {
    asArray(ns[f]).forEach((c, i) => {
      const p = child(index(child('spec', f), i), 'image');
      if (!c?.image && asArray(os[f])[i]?.image) errs.push(fieldErrors.required(p, ''));
      else if (typeof c?.image === 'string' && c.image.length !== c.image.trim().length) {
        errs.push(fieldErrors.invalid(p, c.image, 'must not have leading or trailing whitespace'));
      }
    });
  }
  return errs;
}

/** Upstream ValidatePodStatusUpdate, reduced to what users hit: metadata and IP syntax. */
export function validatePodStatusUpdate(pod: Pod, old: Pod): Errs {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  const st = pod.status ?? {};
  if (st.podIP) errs.push(...msgsToInvalid(isValidIP(st.podIP), 'status.podIP', st.podIP));
  if (st.hostIP) errs.push(...msgsToInvalid(isValidIP(st.hostIP), 'status.hostIP', st.hostIP));
  for (const f of ['podIPs', 'hostIPs'] as const) {
    const ips = asArray(st[f] as { ip?: string }[]);
    const fams = new Set<number>();
    ips.forEach((x, i) => {
      const p = child(index(`status.${f}`, i), 'ip');
      const ip = x?.ip ?? '';
      errs.push(...msgsToInvalid(isValidIP(ip), p, ip));
      const fam = ipFamily(ip);
      if (fam && fams.has(fam)) errs.push(fieldErrors.invalid(`status.${f}`, ips.map((y) => y.ip), 'may specify no more than one IP for each IP family'));
      fams.add(fam);
    });
  }
  asArray(st.conditions).forEach((c, i) => {
    if (!c?.type) errs.push(fieldErrors.required(child(index('status.conditions', i), 'type'), ''));
  });
  return errs;
}

