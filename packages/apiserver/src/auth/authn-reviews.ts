// The authentication API's create-only storages (upstream pkg/registry/core/serviceaccount/storage/token.go,
// pkg/registry/authentication/{tokenreview,selfsubjectreview}): TokenRequest (serviceaccounts/NAME/token),
// TokenReview and SelfSubjectReview. Each answers a create and stores nothing.
import { badRequest, conflict, type FieldError, fieldErrors, findResource, invalid, type KubeObject, rfc3339, StatusError } from '@kubelab/api';
import { restStorage, type Creater, type NamedCreater } from '../registry/rest.js';
import { requestUser } from '../registry/rbac.js';
import type { UserInfo } from './authn.js';
import { serviceAccountClaims, type ServiceAccountTokenIssuer, type TokenObjectGetter } from './serviceaccount.js';
import type { UnionTokenAuthenticator } from './token.js';

const AUTH_API_VERSION = 'authentication.k8s.io/v1';
const TOKEN_REQUEST_GK = { group: 'authentication.k8s.io', kind: 'TokenRequest' };
/** Upstream's default and bounds for spec.expirationSeconds. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
export const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32;


/** A UserInfo as authentication.k8s.io/v1 UserInfo JSON. */
export function userInfoJson(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name };
  if (u.uid) out.uid = u.uid;
  if (u.groups.length) out.groups = [...u.groups];
  if (u.extra && Object.keys(u.extra).length) out.extra = structuredClone(u.extra);
  return out;
}

/** Static validation of a TokenRequest's spec (upstream's ValidateTokenRequest). */
export function validateTokenRequest(spec: { expirationSeconds?: number }): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  if (s < MIN_TOKEN_EXPIRATION_SECONDS) errs.push(fieldErrors.invalid('spec.expirationSeconds', s, 'may not specify a duration less than 10 minutes'));
  if (s > MAX_TOKEN_EXPIRATION_SECONDS) errs.push(fieldErrors.invalid('spec.expirationSeconds', s, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}

function groupVersionOf(apiVersion: string | undefined): { group: string; version: string } {
  const av = apiVersion ?? '';
  const i = av.indexOf('/');
  return i < 0 ? { group: '', version: av } : { group: av.slice(0, i), version: av.slice(i + 1) };
}

export interface TokenRequestOptions {
  issuer: ServiceAccountTokenIssuer;
  getter: TokenObjectGetter;
  /** --api-audiences: the audiences of a token that asks for none. */
  apiAudiences: string[];
  clock: () => Date;
}

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** POST /api/v1/namespaces/NS/serviceaccounts/NAME/token (`kubectl create token NAME`). */
export function tokenRequestREST(opts: TokenRequestOptions): NamedCreater {
  const storage = restStorage(findResource('', 'v1', 'serviceaccounts')!, { apiVersion: AUTH_API_VERSION, kind: 'TokenRequest' });
  return { ...storage, createNamed: (namespace, name, obj) => tokenRequest(opts, namespace, name, obj) };
}

async function tokenRequest(opts: TokenRequestOptions, namespace: string, name: string, obj: KubeObject): Promise<KubeObject> {
  // The service account first: a token for a missing one is a 404 whatever the body says.
  const serviceAccount = await opts.getter.getServiceAccount(namespace, name);
  const meta = obj.metadata ?? {};
  if (meta.name && meta.name !== name) {
    throw invalid(TOKEN_REQUEST_GK, name, [fieldErrors.invalid('metadata.name', meta.name, 'must match the service account name if specified')]);
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw invalid(TOKEN_REQUEST_GK, name, [fieldErrors.invalid('metadata.namespace', meta.namespace, 'must match the service account namespace if specified')]);
  }
  const spec: TokenRequestSpec = { ...((obj.spec ?? {}) as TokenRequestSpec) };
  if (!spec.audiences?.length) spec.audiences = [...opts.apiAudiences];
  spec.expirationSeconds = spec.expirationSeconds === undefined || spec.expirationSeconds === null ? DEFAULT_TOKEN_EXPIRATION_SECONDS : Number(spec.expirationSeconds);
  const now = opts.clock();
  const errs = validateTokenRequest(spec);
  if (errs.length) throw invalid(TOKEN_REQUEST_GK, '', errs);

  let pod: KubeObject | undefined;
  let secret: KubeObject | undefined;
  let node: KubeObject | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const gv = groupVersionOf(ref.apiVersion);
    const refName = ref.name ?? '';
    let uid: string | undefined;
    if (gv.group === '' && ref.kind === 'Pod') {
      pod = await opts.getter.getPod(namespace, refName);
      const podSA = (pod.spec?.serviceAccountName as string | undefined) ?? '';
      if (podSA !== name) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with serviceaccount ${JSON.stringify(podSA)}`);
      uid = pod.metadata.uid;
      // The pod's node goes into the token for information; a missing node is no error.
      const nodeName = pod.spec?.nodeName as string | undefined;
      if (nodeName) {
        try {
          node = await opts.getter.getNode(nodeName);
        } catch (err) {
          if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
        }
      }
    } else if (gv.group === '' && ref.kind === 'Secret') {
      secret = await opts.getter.getSecret(namespace, refName);
      uid = secret.metadata.uid;
    } else if (gv.group === '' && ref.kind === 'Node') {
      node = await opts.getter.getNode(refName);
      uid = node.metadata.uid;
    } else {
      throw badRequest(`cannot bind token to object of type ${gv.group}/${gv.version}, Kind=${ref.kind ?? ''}`);
    }
    if (ref.uid && ref.uid !== uid) {
      throw conflict(
        { group: gv.group, resource: ref.kind ?? '' },
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${uid ?? ''}). The object might have been deleted and then recreated`,
      );
    }
  }

  const claims = serviceAccountClaims({
    serviceAccount,
    pod,
    secret,
    node,
    issuer: opts.issuer.issuer,
    audiences: spec.audiences,
    expirationSeconds: spec.expirationSeconds,
    now,
  });
  return {
    apiVersion: AUTH_API_VERSION,
    kind: 'TokenRequest',
    metadata: { name, namespace, creationTimestamp: rfc3339(now.getTime()) },
    spec,
    status: { token: opts.issuer.generate(claims), expirationTimestamp: rfc3339(now.getTime() + spec.expirationSeconds * 1000) },
  };
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews: what the server's token authenticators make of a token. */
export function tokenReviewREST(opts: { tokens: UnionTokenAuthenticator; apiAudiences: string[] }): Creater {
  const create = async (namespace: string, obj: KubeObject): Promise<KubeObject> => {
    if (namespace) throw badRequest(`namespace is not allowed on this type: ${namespace}`);
    const spec = (obj.spec ?? {}) as { token?: string; audiences?: string[] };
    if (!spec.token) throw badRequest('token is required for TokenReview in authentication');
    const auds = spec.audiences?.length ? spec.audiences : opts.apiAudiences;
    const outcome = await opts.tokens.authenticate(spec.token, auds.length ? auds : undefined);
    const status: Record<string, unknown> = {};
    if (outcome.ok) {
      status.authenticated = true;
      status.user = userInfoJson(outcome.result.user);
      if (outcome.result.audiences.length) status.audiences = outcome.result.audiences;
    } else {
      status.user = {};
      status.error = outcome.error;
    }
    return { apiVersion: AUTH_API_VERSION, kind: 'TokenReview', metadata: { ...(obj.metadata ?? {}) }, spec, status };
  };
  return { ...restStorage(findResource('authentication.k8s.io', 'v1', 'tokenreviews')!), create };
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews (`kubectl auth whoami`). */
export function selfSubjectReviewREST(clock: () => Date): Creater {
  return {
    ...restStorage(findResource('authentication.k8s.io', 'v1', 'selfsubjectreviews')!),
    create: async (_namespace, _obj, opts) => ({
      apiVersion: AUTH_API_VERSION,
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: rfc3339(clock().getTime()) },
      status: { userInfo: userInfoJson(requestUser(opts.requester)) },
    }),
  };
}
