// Counterpart of pkg/kubelet/kubelet_pods.go (makeEnvironmentVariables, getServiceEnvVarMap,
// podFieldSelectorRuntimeValue), pkg/kubelet/envvars/envvars.go (FromServices) and
// third_party/forked/golang/expansion (the $(VAR) syntax).
import { getOwn, Quantity } from '@kubelab/api';
import type { ConfigMap, Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector, Secret, Service } from 'kubernetes-types/core/v1';

/** Where the kubelet reads the objects environment variables refer to (listers or the apiserver). */
export interface EnvSources {
  /** undefined when the ConfigMap does not exist. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services of the pod's namespace and of `default` (for the `kubernetes` service). */
  listServices(namespace: string): Promise<Service[]>;
}

/** A failure to build the environment: the container waits with reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/**
 * Expands $(VAR) references from `lookup`: an undefined variable stays as written, `$$` is a literal `$`,
 * and a `$` before anything else is kept.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance: number;
    if (rest[0] === '$') {
      out += '$';
      advance = 1;
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close < 0) {
        out += '$(';
        advance = 1;
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
      advance = 1;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A lookup over several maps, the first holding the name winning. */
export function mappingFor(...maps: Map<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (const m of maps) if (m.has(name)) return m.get(name);
    return undefined;
  };
}

function envName(serviceName: string): string {
  return serviceName.toUpperCase().replace(/-/g, '_');
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The Docker-link style variables of services (upstream envvars.FromServices). */
export function serviceEnvVars(services: Service[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const prefix = envName(svc.metadata?.name ?? '');
    const ports = svc.spec?.ports ?? [];
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    if (ports[0]) out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service variables a pod in `namespace` sees: those of its namespace's services when
 * enableServiceLinks (default true), and always the `kubernetes` service's from `default`.
 */
export function serviceEnvMap(services: Service[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const byName = new Map<string, Service>();
  const ordered = [...services].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const svc of ordered) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? '';
    if (ns === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  const out = new Map<string, string>();
  for (const { name, value } of serviceEnvVars([...byName.values()])) out.set(name, value);
  return out;
}

export interface PodRuntimeValues {
  nodeName?: string;
  hostIPs?: string[];
  podIPs?: string[];
  /** Node allocatable, the default of resourceFieldRef limits a container leaves unset. */
  nodeAllocatable?: Record<string, string>;
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** The value of a fieldRef (upstream podFieldSelectorRuntimeValue and ExtractFieldPathAsString). */
export function fieldRefValue(pod: Pod, ref: ObjectFieldSelector, rt: PodRuntimeValues): string {
  const path = ref.fieldPath;
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) return getOwn(sub[1] === 'labels' ? meta.labels : meta.annotations, sub[2]!) ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? rt.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return rt.hostIPs?.[0] ?? '';
    case 'status.hostIPs':
      return (rt.hostIPs ?? []).join(',');
    case 'status.podIP':
      return rt.podIPs?.[0] ?? '';
    case 'status.podIPs':
      return (rt.podIPs ?? []).join(',');
  }
  throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
}

/** The value of a resourceFieldRef, divided by its divisor and rounded up (upstream ExtractContainerResourceValue). */
export function resourceFieldRefValue(pod: Pod, container: Container, ref: ResourceFieldSelector, rt: PodRuntimeValues): string {
  const target = ref.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName) : container;
  if (!target) throw new ContainerConfigError(`container ${ref.containerName} not found`);
  const [kind, resource] = ref.resource.split('.', 2) as [string, string];
  const fromSpec = kind === 'limits' ? target.resources?.limits?.[resource] : target.resources?.requests?.[resource];
  const value = fromSpec ?? (kind === 'limits' ? rt.nodeAllocatable?.[resource] : undefined) ?? '0';
  const q = Quantity.parse(value);
  const divisor = Quantity.parse(ref.divisor ?? '1');
  if (resource === 'cpu') {
    const d = Number(divisor.milliValue()) || 1;
    return String(Math.ceil(Number(q.milliValue()) / d));
  }
  if (resource === 'memory' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) {
    const d = Number(divisor.value()) || 1;
    return String(Math.ceil(Number(q.value()) / d));
  }
  throw new ContainerConfigError(`unsupported container resource : ${ref.resource}`);
}

function decode(secret: Secret, key: string): string | undefined {
  const v = getOwn(secret.data, key);
  if (v !== undefined) return Buffer.from(v, 'base64').toString();
  return getOwn(secret.stringData, key);
}

/**
 * The container's environment, in order: envFrom sources, then env (each value expanded over the
 * variables before it and the service variables), then the service variables the container did not set.
 */
export async function makeEnvironmentVariables(
  pod: Pod,
  container: Container,
  sources: EnvSources,
  rt: PodRuntimeValues,
): Promise<{ name: string; value: string }[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const services = await sources.listServices(ns);
  const serviceEnv = serviceEnvMap(services, ns, pod.spec?.enableServiceLinks ?? true);
  const env = new Map<string, string>();
  const configMaps = new Map<string, ConfigMap | undefined>();
  const secrets = new Map<string, Secret | undefined>();
  const configMap = async (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, await sources.getConfigMap(ns, name));
    return configMaps.get(name);
  };
  const secret = async (name: string) => {
    if (!secrets.has(name)) secrets.set(name, await sources.getSecret(ns, name));
    return secrets.get(name);
  };

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = await configMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries({ ...cm.data })) if (validEnvName(prefix + k)) env.set(prefix + k, v);
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = await secret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const k of Object.keys({ ...s.data, ...s.stringData })) if (validEnvName(prefix + k)) env.set(prefix + k, decode(s, k)!);
    }
  }

  const lookup = mappingFor(env, serviceEnv);
  for (const v of container.env ?? []) {
    const value = await envVarValue(pod, container, v, lookup, rt, configMap, secret, ns);
    if (value !== undefined) env.set(v.name, value);
  }

  const result = [...env].map(([name, value]) => ({ name, value }));
  for (const [name, value] of serviceEnv) if (!env.has(name)) result.push({ name, value });
  return result;
}

/** Upstream's relaxed rule (1.32): any printable ASCII name without '='. */
function validEnvName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x7e]+$/.test(name) && !name.includes('=');
}

async function envVarValue(
  pod: Pod,
  container: Container,
  v: EnvVar,
  lookup: (name: string) => string | undefined,
  rt: PodRuntimeValues,
  configMap: (name: string) => Promise<ConfigMap | undefined>,
  secret: (name: string) => Promise<Secret | undefined>,
  ns: string,
): Promise<string | undefined> {
  const from = v.valueFrom;
  if (!from) return expand(v.value ?? '', lookup);
  if (from.fieldRef) return fieldRefValue(pod, from.fieldRef, rt);
  if (from.resourceFieldRef) return resourceFieldRefValue(pod, container, from.resourceFieldRef, rt);
  if (from.configMapKeyRef) {
    const { name = '', key, optional } = from.configMapKeyRef;
    const cm = await configMap(name);
    if (!cm) {
      if (optional) return undefined;
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    const value = getOwn(cm.data, key);
    if (value === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
    }
    return value;
  }
  if (from.secretKeyRef) {
    const { name = '', key, optional } = from.secretKeyRef;
    const s = await secret(name);
    if (!s) {
      if (optional) return undefined;
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    const value = decode(s, key);
    if (value === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
    }
    return value;
  }
  return '';
}

/** Expands $(VAR) in command and args over the container's final environment. */
export function expandCommandAndArgs(container: Container, envs: { name: string; value: string }[]): { command: string[]; args: string[] } {
  const m = new Map<string, string>();
  for (const e of envs) m.set(e.name, e.value);
  const lookup = mappingFor(m);
  return { command: (container.command ?? []).map((c) => expand(c, lookup)), args: (container.args ?? []).map((a) => expand(a, lookup)) };
}
