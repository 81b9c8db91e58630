// POST /api/v1/namespaces/NS/pods/NAME/eviction (upstream's pkg/registry/core/pod/storage/eviction.go): deletes
// a pod unless that would violate its PodDisruptionBudget. A pod that is finished, Pending or already being
// deleted is deleted at once; otherwise its one matching budget must allow a disruption (status.disruptionsAllowed
// > 0, observed at the budget's generation): the eviction decrements disruptionsAllowed and records the pod in
// status.disruptedPods (a conflict re-reads the budget), then deletes the pod. A refused eviction is 429
// "Cannot evict pod as it would violate the pod's disruption budget." with a DisruptionBudget cause.
import { badRequest, conflict, isConflict, notFound, selectorFromLabelSelector, StatusError, type KubeObject, type ResourceInfo, rfc3339 } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Eviction, PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { restStorage, type NamedCreater, type WriteOptions } from './rest.js';
import type { Store } from './store.js';
import type { DeleteOptions } from './strategy.js';

/** Upstream's MaxDisruptedPodSize: a budget whose disruptedPods map is this large refuses evictions. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
const MAX_CONFLICT_RETRIES = 5;

export interface EvictionDeps {
  getPod(namespace: string, name: string): Promise<Pod>;
  deletePod(namespace: string, name: string, opts: DeleteOptions): Promise<void>;
  /**
   * Sets the pod's DisruptionTarget condition (status subresource) if the pod still matches the preconditions
   * (409 Conflict otherwise); returns the pod's new resourceVersion.
   */
  addDisruptionTarget(namespace: string, name: string, preconditions: DeleteOptions['preconditions']): Promise<string | undefined>;
  /** The namespace's PodDisruptionBudgets as stored now (resourceVersions guard the status write). */
  listPodDisruptionBudgets(namespace: string): Promise<PodDisruptionBudget[]>;
  /** Writes a budget's status if its resourceVersion is unchanged (409 Conflict otherwise). */
  updatePodDisruptionBudgetStatus(pdb: PodDisruptionBudget): Promise<void>;
  clock?: () => Date;
}

function tooManyRequests(cause: string): StatusError {
  return new StatusError({
    code: 429,
    reason: 'TooManyRequests',
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    details: { causes: [{ reason: 'DisruptionBudget', message: cause }] },
  });
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Evictions that need no budget: the pod is finished, not yet running, or already going away. */
function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** An unready pod may go without using the budget when the policy says so (unhealthyPodEvictionPolicy). */
function unhealthyMayGo(pdb: PodDisruptionBudget, pod: Pod): boolean {
  if (isReady(pod)) return false;
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  return (pdb.status?.currentHealthy ?? 0) >= (pdb.status?.desiredHealthy ?? 0) && (pdb.status?.desiredHealthy ?? 0) > 0;
}

/** Checks the budget allows one more disruption and returns it with the disruption charged. */
function checkAndDecrement(pdb: PodDisruptionBudget, podName: string, now: Date): PodDisruptionBudget {
  const name = pdb.metadata!.name!;
  const status = pdb.status;
  if ((status?.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  const allowed = status?.disruptionsAllowed ?? 0;
  if (allowed < 0) throw new StatusError({ code: 403, reason: 'Forbidden', message: 'pdb disruptions allowed is negative' });
  if (Object.keys(status?.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
    throw new StatusError({ code: 403, reason: 'Forbidden', message: 'DisruptedPods map too big - too many evictions not confirmed by PDB controller' });
  }
  if (allowed === 0) throw tooManyRequests(`The disruption budget ${name} needs ${status?.desiredHealthy ?? 0} healthy pods and has ${status?.currentHealthy ?? 0} currently`);
  return {
    ...pdb,
    status: { ...status!, disruptionsAllowed: allowed - 1, disruptedPods: { ...(status?.disruptedPods ?? {}), [podName]: rfc3339(now.getTime()) } },
  };
}

/** The pod with condition DisruptionTarget=True (reason EvictionByEvictionAPI) replacing any earlier one. */
export function withDisruptionTarget(pod: Pod, now: Date): Pod {
  const old = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  const condition = {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'EvictionByEvictionAPI',
    message: 'Eviction API: evicting',
    lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : rfc3339(now.getTime()),
  };
  const next = structuredClone(pod);
  return { ...next, status: { ...next.status, conditions: [...(next.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), condition] } };
}

export function evictionREST(pods: ResourceInfo, deps: EvictionDeps): NamedCreater {
  const clock = deps.clock ?? (() => new Date());
  return {
    ...restStorage(pods, { apiVersion: 'policy/v1', kind: 'Eviction' }),
    async createNamed(namespace: string, name: string, obj: KubeObject, opts: WriteOptions): Promise<KubeObject> {
      const eviction = obj as unknown as Eviction;
      if (eviction.metadata?.name && eviction.metadata.name !== name) throw badRequest('name in URL does not match name in Eviction object');
      const deleteOptions: DeleteOptions = { ...((eviction.deleteOptions ?? {}) as DeleteOptions), ...(opts.dryRun ? { dryRun: ['All'] } : {}) };
      const success = { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 } as unknown as KubeObject;
      for (let attempt = 0; ; attempt++) {
        const pod = await deps.getPod(namespace, name);
        const labels = pod.metadata?.labels ?? {};
        const pdbs = canIgnorePDB(pod) ? [] : (await deps.listPodDisruptionBudgets(namespace)).filter((p) => {
          // policy/v1: an empty selector matches every pod of the namespace, a missing one none.
          try {
            return selectorFromLabelSelector(p.spec?.selector).matches(labels);
          } catch {
            return false;
          }
        });
        if (pdbs.length > 1) {
          throw new StatusError({ code: 500, reason: 'InternalError', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
        }
        const pdb = pdbs[0];
        if (pdb && !unhealthyMayGo(pdb, pod)) {
          const charged = checkAndDecrement(pdb, name, clock());
          if (!opts.dryRun) {
            try {
              await deps.updatePodDisruptionBudgetStatus(charged);
            } catch (err) {
              if (isConflict(err) && attempt < MAX_CONFLICT_RETRIES) continue;
              throw err;
            }
          }
          // The pod must be the one the budget was checked against.
          deleteOptions.preconditions ??= { uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion };
        }
        // Upstream's addConditionAndDeletePod: the pod says why it goes before it is deleted.
        if (!opts.dryRun) {
          const rv = await deps.addDisruptionTarget(namespace, name, deleteOptions.preconditions);
          if (deleteOptions.preconditions?.resourceVersion && rv) deleteOptions.preconditions = { ...deleteOptions.preconditions, resourceVersion: rv };
        }
        await deps.deletePod(namespace, name, deleteOptions);
        return success;
      }
    },
  };
}

/** pods/eviction over the pod and PodDisruptionBudget stores; undefined while PodDisruptionBudgets are not served. */
export function evictionStorage(pods: Store, pdbs: Store | undefined, clock: () => Date): NamedCreater | undefined {
  if (!pdbs) return undefined;
  return evictionREST(pods.info, {
    getPod: async (ns, name) => (await pods.get(ns, name)) as Pod,
    deletePod: async (ns, name, opts) => void (await pods.delete(ns, name, opts)),
    addDisruptionTarget: async (ns, name, pre) => {
      const { object } = await pods.update(
        ns,
        name,
        (current) => {
          if (!current) throw notFound(pods.gr, name);
          if (pre?.uid && pre.uid !== current.metadata.uid) {
            throw conflict(pods.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
          }
          if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
            throw conflict(pods.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
          }
          return withDisruptionTarget(current as Pod, clock()) as KubeObject;
        },
        { subresource: 'status' },
      );
      return object.metadata.resourceVersion;
    },
    listPodDisruptionBudgets: async (ns) => (await pdbs.list(ns)).items as PodDisruptionBudget[],
    updatePodDisruptionBudgetStatus: async (pdb) =>
      void (await pdbs.update(pdb.metadata!.namespace!, pdb.metadata!.name!, () => pdb as KubeObject, { subresource: 'status' })),
    clock,
  });
}
