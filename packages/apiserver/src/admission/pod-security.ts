// PodSecurity: namespaces choose a Pod Security Standard per mode with labels
// pod-security.kubernetes.io/<enforce|warn|audit>[-version]. enforce rejects violating pods, warn
// returns Warning headers, and workload templates only ever warn. Namespace label changes are
// validated, and tightening enforce warns about the namespace's existing pods.
import { invalid, type FieldError, type KubeObject } from '@kubelab/api';
import type { Pod, PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import { addWarning, type AdmissionAttributes, type AdmissionPlugin } from './admission.js';
import { LEVELS, evaluatePod, formatResults, levelVersionString, type Level, type LevelVersion } from './pod-security-policy.js';
import { forbiddenFor } from './util.js';

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export type Mode = 'enforce' | 'warn' | 'audit';
const MODES: Mode[] = ['enforce', 'audit', 'warn'];
const VERSION_RE = /^v1\.(0|[1-9][0-9]*)$/;

export interface Policy {
  enforce: LevelVersion;
  warn: LevelVersion;
  audit: LevelVersion;
}

/** The namespace's policy and any label errors. An invalid level is evaluated as restricted (fail closed). */
export function policyOf(labels: Record<string, string> | undefined): { policy: Policy; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const policy = {} as Policy;
  for (const mode of MODES) {
    const levelKey = `${LABEL_PREFIX}${mode}`;
    const versionKey = `${levelKey}-version`;
    const rawLevel = labels?.[levelKey];
    const rawVersion = labels?.[versionKey];
    let level: Level = 'privileged';
    if (rawLevel !== undefined) {
      if ((LEVELS as readonly string[]).includes(rawLevel)) level = rawLevel as Level;
      else {
        level = 'restricted';
        errors.push({ type: 'FieldValueInvalid', field: `metadata.labels[${levelKey}]`, badValue: rawLevel, detail: `must be one of ${LEVELS.join(', ')}` });
      }
    }
    let version = 'latest';
    if (rawVersion !== undefined) {
      if (rawVersion === 'latest' || VERSION_RE.test(rawVersion)) version = rawVersion;
      else errors.push({ type: 'FieldValueInvalid', field: `metadata.labels[${versionKey}]`, badValue: rawVersion, detail: 'must be "latest" or "v1.x"' });
    }
    policy[mode] = { level, version };
  }
  return { policy, errors };
}

const RANK: Record<Level, number> = { privileged: 0, baseline: 1, restricted: 2 };

/** The pod template of a workload resource, or undefined for other resources. */
function templateOf(resource: string, group: string, obj: KubeObject): PodTemplateSpec | undefined {
  const spec = (obj as { spec?: Record<string, unknown>; template?: PodTemplateSpec }).spec;
  if (group === '' && resource === 'podtemplates') return (obj as { template?: PodTemplateSpec }).template;
  if (group === '' && resource === 'replicationcontrollers') return spec?.template as PodTemplateSpec | undefined;
  if (group === 'apps' && ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(resource)) return spec?.template as PodTemplateSpec | undefined;
  if (group === 'batch' && resource === 'jobs') return spec?.template as PodTemplateSpec | undefined;
  if (group === 'batch' && resource === 'cronjobs') return (spec?.jobTemplate as { spec?: { template?: PodTemplateSpec } } | undefined)?.spec?.template;
  return undefined;
}

export interface PodSecurityDeps {
  getNamespace(name: string): Promise<KubeObject | undefined>;
  /** The pods of a namespace (from the watch cache). */
  listPods(namespace: string): Promise<KubeObject[]>;
}

export class PodSecurity implements AdmissionPlugin {
  readonly name = 'PodSecurity';

  constructor(private readonly deps: PodSecurityDeps) {}

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    if (!a.object) return;
    const { group, resource } = a.resource;
    if (group === '' && resource === 'namespaces') return this.namespace(a);
    if (group === '' && resource === 'pods') return this.pod(a);
    if (a.subresource) return;
    const template = templateOf(resource, group, a.object);
    if (template) return this.template(a, template);
  }

  private async policy(namespace: string): Promise<Policy | undefined> {
    if (!namespace) return undefined;
    const ns = await this.deps.getNamespace(namespace);
    return policyOf(ns?.metadata?.labels).policy;
  }

  private async pod(a: AdmissionAttributes): Promise<void> {
    if (a.subresource && a.subresource !== 'ephemeralcontainers') return;
    const pod = a.object as unknown as Pod;
    if (a.operation === 'UPDATE' && a.oldObject) {
      // Only changes to what the standards look at are evaluated again (labels, status, ... are not).
      const old = a.oldObject as unknown as Pod;
      if (JSON.stringify(old.spec) === JSON.stringify(pod.spec) && JSON.stringify(appArmorAnnotations(old.metadata)) === JSON.stringify(appArmorAnnotations(pod.metadata))) return;
    }
    const policy = await this.policy(a.namespace);
    if (!policy) return;
    const meta = pod.metadata ?? {};
    const spec: PodSpec = pod.spec ?? { containers: [] };
    const enforced = evaluatePod(policy.enforce.level, meta, spec);
    if (enforced.length) throw forbiddenFor(a, `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${formatResults(enforced)}`);
    const warned = evaluatePod(policy.warn.level, meta, spec);
    if (warned.length) addWarning(a, `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${formatResults(warned)}`);
  }

  private async template(a: AdmissionAttributes, template: PodTemplateSpec): Promise<void> {
    const policy = await this.policy(a.namespace);
    if (!policy) return;
    const meta: ObjectMeta = template.metadata ?? {};
    const spec: PodSpec = template.spec ?? { containers: [] };
    // Workloads are never rejected: their pods are. The stricter of enforce and warn is reported.
    const lv = RANK[policy.enforce.level] >= RANK[policy.warn.level] ? policy.enforce : policy.warn;
    const results = evaluatePod(lv.level, meta, spec);
    if (results.length) addWarning(a, `would violate PodSecurity ${JSON.stringify(levelVersionString(lv))}: ${formatResults(results)}`);
  }

  private async namespace(a: AdmissionAttributes): Promise<void> {
    if (a.subresource) return;
    const ns = a.object!;
    const { policy, errors } = policyOf(ns.metadata?.labels);
    if (errors.length) throw invalid({ group: '', kind: 'Namespace' }, ns.metadata?.name ?? a.name, errors);
    if (a.operation !== 'UPDATE' || !a.oldObject) return;
    const before = policyOf(a.oldObject.metadata?.labels).policy.enforce;
    const after = policy.enforce;
    if (before.level === after.level && before.version === after.version) return;
    if (after.level === 'privileged') return;
    const pods = (await this.deps.listPods(ns.metadata?.name ?? a.name)) as unknown as Pod[];
    // Pods with the same violations are reported together: "web-1 (and 2 other pods): ...".
    const byViolation = new Map<string, string[]>();
    for (const p of pods) {
      const results = evaluatePod(after.level, p.metadata ?? {}, p.spec ?? { containers: [] });
      if (!results.length) continue;
      const key = [...new Set(results.map((r) => r.reason))].join(', ');
      byViolation.set(key, [...(byViolation.get(key) ?? []), p.metadata?.name ?? '']);
    }
    if (!byViolation.size) return;
    addWarning(a, `existing pods in namespace ${JSON.stringify(ns.metadata?.name ?? a.name)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(after))}`);
    for (const [reasons, names] of byViolation) {
      const others = names.length - 1;
      const who = others ? `${names[0]} (and ${others} other ${others === 1 ? 'pod' : 'pods'})` : names[0];
      addWarning(a, `${who}: ${reasons}`);
    }
  }
}

function appArmorAnnotations(meta: ObjectMeta | undefined): [string, string][] {
  return Object.entries(meta?.annotations ?? {})
    .filter(([k]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/'))
    .sort(([x], [y]) => x.localeCompare(y));
}
