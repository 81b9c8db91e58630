// ControllerRevisions for StatefulSets and DaemonSets (upstream's pkg/controller/history): a
// revision is an immutable snapshot of the owner's pod template, named `<owner>-<hash>`, numbered by
// `revision`, owned through a controllerRef and labelled `controller-revision-hash`.
import { alreadyExists, findResource, isAlreadyExists, isNotFound, notFound, type KubeObject } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { ControllerRevision } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { computeHash } from '../deployment/deployment-util.js';
import { newControllerRef } from '../controller-utils.js';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** The side effects on ControllerRevisions (upstream's history.Interface). */
export interface HistoryClient {
  create(rev: ControllerRevision): Promise<ControllerRevision>;
  get(namespace: string, name: string): Promise<ControllerRevision>;
  /** A merge patch (revision renumbering, adoption and release). */
  patch(namespace: string, name: string, patch: object): Promise<ControllerRevision>;
  delete(namespace: string, name: string): Promise<void>;
}

const CONTROLLER_REVISIONS = findResource('apps', 'v1', 'controllerrevisions')!;

/** The HistoryClient over the API (upstream's NewHistory with a clientset). */
export function apiHistoryClient(client: RestClient): HistoryClient {
  const crs = (ns?: string) => client.resource<KubeObject>(CONTROLLER_REVISIONS, ns);
  return {
    create: async (rev) => (await crs(rev.metadata!.namespace).create(rev as KubeObject)) as ControllerRevision,
    get: async (ns, name) => (await crs(ns).get(name)) as ControllerRevision,
    patch: async (ns, name, patch) => (await crs(ns).patch(name, patch, 'merge')) as ControllerRevision,
    delete: async (ns, name) => {
      await crs(ns).delete(name);
    },
  };
}

/** Upstream's getPatch: the part of the owner a revision records, the pod template (replacing on apply). */
export function revisionData(template: PodTemplateSpec | undefined): object {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The template recorded in a revision. */
export function templateFromRevision(rev: ControllerRevision): PodTemplateSpec {
  const t = structuredClone((rev.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

/** Upstream's HashControllerRevision: a hash of the data and the collision count. */
export function hashRevision(data: object, collisionCount?: number): string {
  return computeHash(data as PodTemplateSpec, collisionCount);
}

/** `<prefix>-<hash>`, with the prefix cut so the name stays within 253 characters. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** A new revision of `owner` (upstream's NewControllerRevision). */
export function newControllerRevision(
  owner: KubeObject,
  ownerKind: string,
  templateLabels: Record<string, string> | undefined,
  data: object,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const hash = hashRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(owner.metadata.name!, hash),
      namespace: owner.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(owner, 'apps/v1', ownerKind)],
    },
    data,
    revision,
  };
}

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return false;
  return canonical(a.data) === canonical(b.data);
}

/** Oldest revision first (by revision number, then creation, then name). */
export function sortRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort(
    (a, b) =>
      a.revision - b.revision ||
      Date.parse(a.metadata?.creationTimestamp ?? '0') - Date.parse(b.metadata?.creationTimestamp ?? '0') ||
      (a.metadata!.name! < b.metadata!.name! ? -1 : 1),
  );
}

export function nextRevision(revs: ControllerRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
}

/**
 * Creates `rev`, handling hash collisions as upstream's CreateControllerRevision: an existing revision
 * with the same name and data is returned; with other data, the collision count is bumped and the
 * name recomputed. Returns the stored revision and the collision count used.
 */
export async function createRevision(
  client: HistoryClient,
  owner: KubeObject,
  ownerKind: string,
  templateLabels: Record<string, string> | undefined,
  data: object,
  revision: number,
  collisionCount: number,
): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  let count = collisionCount;
  for (let attempt = 0; attempt < 10; attempt++) {
    const rev = newControllerRevision(owner, ownerKind, templateLabels, data, revision, count);
    try {
      return { revision: await client.create(rev), collisionCount: count };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get(rev.metadata!.namespace!, rev.metadata!.name!).catch((e) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (existing && equalRevision(existing, rev)) return { revision: existing, collisionCount: count };
      count++;
    }
  }
  throw new Error(`unable to create ControllerRevision for ${owner.metadata.namespace}/${owner.metadata.name}: too many hash collisions`);
}

/**
 * Finds or creates the revision for `data` (the "update revision"): an equal existing revision is
 * renumbered to the newest if it is not already, otherwise a new one is created. Returns the update
 * revision and the (possibly bumped) collision count.
 */
export async function ensureUpdateRevision(
  client: HistoryClient,
  owner: KubeObject,
  ownerKind: string,
  templateLabels: Record<string, string> | undefined,
  data: object,
  revisions: ControllerRevision[],
  collisionCount: number,
): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  const sorted = sortRevisions(revisions);
  const probe = newControllerRevision(owner, ownerKind, templateLabels, data, 0, collisionCount);
  const equal = sorted.filter((r) => equalRevision(r, probe));
  const latest = sorted[sorted.length - 1];
  if (equal.length) {
    const found = equal[equal.length - 1]!;
    if (latest && found.metadata!.name === latest.metadata!.name) return { revision: found, collisionCount };
    const renumbered = await client.patch(found.metadata!.namespace!, found.metadata!.name!, { revision: nextRevision(sorted) });
    return { revision: renumbered, collisionCount };
  }
  return createRevision(client, owner, ownerKind, templateLabels, data, nextRevision(sorted), collisionCount);
}

/** An in-memory HistoryClient for tests. */
export class FakeHistoryClient implements HistoryClient {
  readonly revisions = new Map<string, ControllerRevision>();
  readonly deleted: string[] = [];
  private seq = 0;

  async create(rev: ControllerRevision): Promise<ControllerRevision> {
    const key = `${rev.metadata!.namespace}/${rev.metadata!.name}`;
    if (this.revisions.has(key)) {
      throw alreadyExists({ group: 'apps', resource: 'controllerrevisions' }, rev.metadata!.name!);
    }
    const seq = ++this.seq;
    const stored: ControllerRevision = {
      ...structuredClone(rev),
      metadata: { ...structuredClone(rev.metadata), uid: `rev-uid-${seq}`, creationTimestamp: new Date(Date.parse('2025-01-01T00:00:00Z') + seq * 1000).toISOString() },
    };
    this.revisions.set(key, stored);
    return structuredClone(stored);
  }

  async get(namespace: string, name: string): Promise<ControllerRevision> {
    const r = this.revisions.get(`${namespace}/${name}`);
    if (!r) {
      throw notFound({ group: 'apps', resource: 'controllerrevisions' }, name);
    }
    return structuredClone(r);
  }

  async patch(namespace: string, name: string, patch: object): Promise<ControllerRevision> {
    const r = await this.get(namespace, name);
    const p = patch as { revision?: number; metadata?: ControllerRevision['metadata'] };
    if (p.revision !== undefined) r.revision = p.revision;
    if (p.metadata?.ownerReferences) r.metadata!.ownerReferences = p.metadata.ownerReferences;
    this.revisions.set(`${namespace}/${name}`, r);
    return structuredClone(r);
  }

  async delete(namespace: string, name: string): Promise<void> {
    this.revisions.delete(`${namespace}/${name}`);
    this.deleted.push(name);
  }

  list(): ControllerRevision[] {
    return [...this.revisions.values()].map((r) => structuredClone(r));
  }
}
