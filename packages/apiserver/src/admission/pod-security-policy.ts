// The Pod Security Standards (privileged, baseline, restricted) as pure checks over a pod's metadata
// and spec. Each failed check gives a reason and a detail; messages list them as `reason (detail)`.
import type { Container, EphemeralContainer, PodSpec, SecurityContext } from 'kubernetes-types/core/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import { joinQuote, pluralize } from './util.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

export interface LevelVersion {
  level: Level;
  /** `latest` or `v1.<minor>`. */
  version: string;
}

export interface CheckResult {
  reason: string;
  detail: string;
}

export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${lv.version}`;
}

type AnyContainer = Container | EphemeralContainer;
type Check = (meta: ObjectMeta, spec: PodSpec) => CheckResult | undefined;

function containersOf(spec: PodSpec): AnyContainer[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

function sc(c: AnyContainer): SecurityContext {
  return c.securityContext ?? {};
}

/** `container "a"` or `containers "a", "b"`. */
function containersPhrase(names: string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const appArmorProfile: Check = (meta, spec) => {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(meta.annotations ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!k.startsWith(APPARMOR_PREFIX)) continue;
    if (v === '' || v === 'runtime/default' || v.startsWith('localhost/')) continue;
    bad.push(`${k}=${JSON.stringify(v)}`);
  }
  const setters: string[] = [];
  if (spec.securityContext?.appArmorProfile?.type === 'Unconfined') setters.push('pod');
  const containers = containersOf(spec).filter((c) => sc(c).appArmorProfile?.type === 'Unconfined').map((c) => c.name);
  if (containers.length) setters.push(containersPhrase(containers));
  if (setters.length) bad.push(`${setters.join(' and ')} must not set securityContext.appArmorProfile.type to "Unconfined"`);
  if (!bad.length) return undefined;
  return { reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length), detail: bad.join(', ') };
};

const hostNamespaces: Check = (_meta, spec) => {
  const set: string[] = [];
  if (spec.hostIPC) set.push('hostIPC=true');
  if (spec.hostNetwork) set.push('hostNetwork=true');
  if (spec.hostPID) set.push('hostPID=true');
  return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
};

const hostPathVolumes: Check = (_meta, spec) => {
  const names = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  return names.length ? { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}` } : undefined;
};

const hostPorts: Check = (_meta, spec) => {
  const containers: string[] = [];
  const ports: string[] = [];
  for (const c of containersOf(spec)) {
    const own = (c.ports ?? []).filter((p) => p.hostPort).map((p) => String(p.hostPort));
    if (!own.length) continue;
    containers.push(c.name);
    for (const p of own) if (!ports.includes(p)) ports.push(p);
  }
  if (!containers.length) return undefined;
  const many = containers.length > 1;
  return { reason: 'hostPort', detail: `${containersPhrase(containers)} ${many ? 'use' : 'uses'} ${pluralize('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}` };
};

const privileged: Check = (_meta, spec) => {
  const names = containersOf(spec).filter((c) => sc(c).privileged === true).map((c) => c.name);
  return names.length ? { reason: 'privileged', detail: `${containersPhrase(names)} must not set securityContext.privileged=true` } : undefined;
};

const procMount: Check = (_meta, spec) => {
  const names = containersOf(spec).filter((c) => sc(c).procMount && sc(c).procMount !== 'Default').map((c) => c.name);
  return names.length ? { reason: 'procMount', detail: `${containersPhrase(names)} must not set securityContext.procMount to "Unmasked"` } : undefined;
};

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const seLinuxOptions: Check = (_meta, spec) => {
  const types = new Set<string>();
  let user = false;
  let role = false;
  const setters: string[] = [];
  const visit = (opts: SecurityContext['seLinuxOptions'] | undefined): boolean => {
    if (!opts) return false;
    let bad = false;
    if (!SELINUX_TYPES.has(opts.type ?? '')) {
      types.add(opts.type!);
      bad = true;
    }
    if (opts.user) user = bad = true;
    if (opts.role) role = bad = true;
    return bad;
  };
  if (visit(spec.securityContext?.seLinuxOptions)) setters.push('pod');
  const containers = containersOf(spec).filter((c) => visit(sc(c).seLinuxOptions)).map((c) => c.name);
  if (containers.length) setters.push(containersPhrase(containers));
  if (!setters.length) return undefined;
  const parts: string[] = [];
  if (types.size) parts.push(`${pluralize('type', 'types', types.size)} ${joinQuote([...types].sort())}`);
  if (user) parts.push('user may not be set');
  if (role) parts.push('role may not be set');
  return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${parts.join('; ')}` };
};

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const sysctls: Check = (_meta, spec) => {
  const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !SAFE_SYSCTLS.has(n));
  return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
};

const windowsHostProcess: Check = (_meta, spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess) setters.push('pod');
  const names = containersOf(spec).filter((c) => sc(c).windowsOptions?.hostProcess).map((c) => c.name);
  if (names.length) setters.push(containersPhrase(names));
  return setters.length ? { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` } : undefined;
};

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const capabilitiesBaseline: Check = (_meta, spec) => {
  const containers: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    const bad = (sc(c).capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (!bad.length) continue;
    containers.push(c.name);
    for (const cap of bad) caps.add(cap);
  }
  if (!containers.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${containersPhrase(containers)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add` };
};

/** Who sets seccompProfile.type Unconfined: `pod`, `container "a"`, joined with " and ". */
function unconfinedSetters(spec: PodSpec): string[] {
  const setters: string[] = [];
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') setters.push('pod');
  const names = containersOf(spec).filter((c) => sc(c).seccompProfile?.type === 'Unconfined').map((c) => c.name);
  if (names.length) setters.push(containersPhrase(names));
  return setters;
}

const seccompProfileBaseline: Check = (_meta, spec) => {
  const setters = unconfinedSetters(spec);
  return setters.length ? { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined;
};

const allowPrivilegeEscalation: Check = (_meta, spec) => {
  const names = containersOf(spec).filter((c) => sc(c).allowPrivilegeEscalation !== false).map((c) => c.name);
  return names.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(names)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const capabilitiesRestricted: Check = (_meta, spec) => {
  const notDropping: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    const capabilities = sc(c).capabilities;
    if (!(capabilities?.drop ?? []).includes('ALL')) notDropping.push(c.name);
    const bad = (capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (bad.length) {
      adding.push(c.name);
      for (const cap of bad) caps.add(cap);
    }
  }
  const parts: string[] = [];
  if (notDropping.length) parts.push(`${containersPhrase(notDropping)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) parts.push(`${containersPhrase(adding)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`);
  return parts.length ? { reason: 'unrestricted capabilities', detail: parts.join('; ') } : undefined;
};

const ALLOWED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const restrictedVolumes: Check = (_meta, spec) => {
  const names: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const sources = Object.keys(v).filter((k) => k !== 'name');
    const bad = sources.filter((k) => !ALLOWED_VOLUME_SOURCES.has(k));
    if (!bad.length && sources.length) continue;
    names.push(v.name);
    for (const t of bad.length ? bad : ['unknown']) types.add(t);
  }
  if (!names.length) return undefined;
  const many = names.length > 1;
  return {
    reason: 'restricted volume types',
    detail:
      `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${many ? 'use' : 'uses'} ` +
      `${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote([...types].sort())}`,
  };
};

const runAsNonRoot: Check = (_meta, spec) => {
  const setters: string[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false) setters.push('pod');
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const v = sc(c).runAsNonRoot;
    if (v === false) explicit.push(c.name);
    else if (v === undefined && podValue !== true) implicit.push(c.name);
  }
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

const runAsUser: Check = (_meta, spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push('pod');
  const names = containersOf(spec).filter((c) => sc(c).runAsUser === 0).map((c) => c.name);
  if (names.length) setters.push(containersPhrase(names));
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

const seccompProfileRestricted: Check = (_meta, spec) => {
  const setters = unconfinedSetters(spec);
  if (setters.length) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` };
  const podSet = !!spec.securityContext?.seccompProfile?.type;
  if (podSet) return undefined;
  const names = containersOf(spec).filter((c) => !sc(c).seccompProfile?.type).map((c) => c.name);
  return names.length ? { reason: 'seccompProfile', detail: `pod or ${containersPhrase(names)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` } : undefined;
};

/** Baseline checks that restricted keeps as they are (upstream's order). */
const BASELINE: Check[] = [appArmorProfile, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, seLinuxOptions, sysctls, windowsHostProcess];
/** Baseline checks that restricted replaces with stricter ones. */
const BASELINE_ONLY: Check[] = [capabilitiesBaseline, seccompProfileBaseline];
const RESTRICTED: Check[] = [allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot, runAsUser, seccompProfileRestricted];

/** The failed checks of a pod at a level (none for privileged). */
export function evaluatePod(level: Level, meta: ObjectMeta, spec: PodSpec): CheckResult[] {
  if (level === 'privileged') return [];
  const checks = level === 'baseline' ? [...BASELINE, ...BASELINE_ONLY] : [...BASELINE, ...RESTRICTED];
  return checks.map((c) => c(meta, spec)).filter((r): r is CheckResult => !!r);
}

/** `reason (detail), reason (detail)`, as upstream joins failed checks. */
export function formatResults(results: CheckResult[]): string {
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}
