// The access review APIs (authorization.k8s.io/v1; upstream pkg/registry/authorization/*), create-only
// storages answered without being stored:
// SubjectAccessReview (may the given user ...?), LocalSubjectAccessReview (the same, in the request's
// namespace), SelfSubjectAccessReview (may I ...? — `kubectl auth can-i`) and SelfSubjectRulesReview
// (what may I do in this namespace? — `kubectl auth can-i --list`).
import { findResource, invalid, type FieldError, type KubeObject } from '@kubelab/api';
import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import { restStorage, type Creater } from '../registry/rest.js';
import { requestUser } from '../registry/rbac.js';
import type { AuthorizationAttributes, Authorizer, UserInfo } from './authn.js';

const GROUP = 'authorization.k8s.io';

/** What a review is answered from: the requesting user, the request's namespace and the server's authorizer. */
interface ReviewRequest {
  user: UserInfo;
  namespace: string;
  authorizer: Authorizer;
}

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}
interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
interface SubjectAccessReviewSpec {
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
}

/** What a rules review asks of the authorization modes that can list rules. */
export interface RulesResolver {
  /** Rules that apply to the user in the namespace; incomplete when some mode cannot list its rules. */
  rulesFor(user: UserInfo, namespace: string): Promise<{ rules: PolicyRule[]; incomplete: boolean; errors: string[] }>;
}

function toAttributes(user: UserInfo, spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes }): AuthorizationAttributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      user,
      verb: r.verb ?? '',
      isResourceRequest: true,
      path: '',
      apiGroup: r.group ?? '',
      apiVersion: r.version ?? '',
      namespace: r.namespace ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      name: r.name ?? '',
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', isResourceRequest: false, path: n.path ?? '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
}

function specErrors(spec: { resourceAttributes?: unknown; nonResourceAttributes?: unknown } | undefined): FieldError[] {
  const r = spec?.resourceAttributes;
  const n = spec?.nonResourceAttributes;
  if ((r === undefined) === (n === undefined)) {
    return [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', badValue: r ?? n ?? null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }];
  }
  return [];
}

function answer(obj: KubeObject, status: Record<string, unknown>): KubeObject {
  return { ...obj, apiVersion: `${GROUP}/v1`, metadata: { ...(obj.metadata ?? {}), creationTimestamp: null as unknown as string }, status };
}

async function decide(authorizer: Authorizer, attrs: AuthorizationAttributes): Promise<Record<string, unknown>> {
  const d = await authorizer.authorize(attrs);
  if (d.allowed) return { allowed: true };
  return d.reason ? { allowed: false, reason: d.reason } : { allowed: false };
}

async function subjectAccessReview(obj: KubeObject, req: ReviewRequest): Promise<KubeObject> {
  const spec = (obj.spec ?? {}) as SubjectAccessReviewSpec;
  const errs = specErrors(spec);
  if (!spec.user && !spec.groups?.length) errs.push({ type: 'FieldValueInvalid', field: 'spec.user', badValue: '', detail: 'at least one of user or group must be specified' });
  if (errs.length) throw invalid({ group: GROUP, kind: 'SubjectAccessReview' }, '', errs);
  const user: UserInfo = { name: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra };
  return answer(obj, await decide(req.authorizer, toAttributes(user, spec)));
}

async function localSubjectAccessReview(obj: KubeObject, req: ReviewRequest): Promise<KubeObject> {
  const spec = (obj.spec ?? {}) as SubjectAccessReviewSpec;
  const errs = specErrors(spec);
  if (!spec.user && !spec.groups?.length) errs.push({ type: 'FieldValueInvalid', field: 'spec.user', badValue: '', detail: 'at least one of user or group must be specified' });
  if (spec.nonResourceAttributes) errs.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', badValue: spec.nonResourceAttributes, detail: 'disallowed on this kind of request' });
  const ns = spec.resourceAttributes?.namespace ?? '';
  if (spec.resourceAttributes && ns !== req.namespace) errs.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', badValue: ns, detail: 'must match metadata.namespace' });
  if (errs.length) throw invalid({ group: GROUP, kind: 'LocalSubjectAccessReview' }, obj.metadata?.name ?? '', errs);
  const user: UserInfo = { name: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra };
  const out = answer(obj, await decide(req.authorizer, toAttributes(user, spec)));
  out.metadata.namespace = req.namespace;
  return out;
}

async function selfSubjectAccessReview(obj: KubeObject, req: ReviewRequest): Promise<KubeObject> {
  const spec = (obj.spec ?? {}) as { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes };
  const errs = specErrors(spec);
  if (errs.length) throw invalid({ group: GROUP, kind: 'SelfSubjectAccessReview' }, '', errs);
  return answer(obj, await decide(req.authorizer, toAttributes(req.user, spec)));
}

function rulesReview(resolver: RulesResolver) {
  return async (obj: KubeObject, req: ReviewRequest): Promise<KubeObject> => {
    const ns = ((obj.spec ?? {}) as { namespace?: string }).namespace ?? '';
    const { rules, incomplete, errors } = await resolver.rulesFor(req.user, ns);
    const resourceRules: Record<string, string[]>[] = [];
    const nonResourceRules: Record<string, string[]>[] = [];
    for (const r of rules) {
      if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs] });
      if (r.resources?.length || r.apiGroups?.length) {
        const rr: Record<string, string[]> = { verbs: [...r.verbs], apiGroups: [...(r.apiGroups ?? [])], resources: [...(r.resources ?? [])] };
        if (r.resourceNames?.length) rr.resourceNames = [...r.resourceNames];
        resourceRules.push(rr);
      }
    }
    const status: Record<string, unknown> = { resourceRules, nonResourceRules, incomplete };
    if (errors.length) status.evaluationError = errors.join(', ');
    return answer(obj, status);
  };
}

type Review = (obj: KubeObject, req: ReviewRequest) => Promise<KubeObject>;

function reviewREST(resource: string, authorizer: Authorizer, review: Review): Creater {
  return {
    ...restStorage(findResource(GROUP, 'v1', resource)!),
    create: (namespace, obj, opts) => review(obj, { user: requestUser(opts.requester), namespace, authorizer }),
  };
}

/** The four access review storages, answered by the server's authorizer. */
export function accessReviewStorages(authorizer: Authorizer, resolver: RulesResolver) {
  return {
    subjectAccessReviews: reviewREST('subjectaccessreviews', authorizer, subjectAccessReview),
    localSubjectAccessReviews: reviewREST('localsubjectaccessreviews', authorizer, localSubjectAccessReview),
    selfSubjectAccessReviews: reviewREST('selfsubjectaccessreviews', authorizer, selfSubjectAccessReview),
    selfSubjectRulesReviews: reviewREST('selfsubjectrulesreviews', authorizer, rulesReview(resolver)),
  };
}
