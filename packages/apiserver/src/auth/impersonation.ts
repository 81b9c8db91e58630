// Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the Impersonate-User, -Group, -Uid and
// -Extra-<key> headers switch the request's user after the authenticated requestor has been
// authorized for verb "impersonate" on each thing it asks to be (upstream's WithImpersonation filter).
import { forbidden, getOwn, internal, setOwn } from '@kubelab/api';
import type { AuthorizationAttributes, Authorizer, UserInfo } from './authn.js';
import { AUTHENTICATED_GROUP } from './token.js';
import { serviceAccountGroups, makeServiceAccountUsername, splitServiceAccountUsername } from './serviceaccount.js';

export const IMPERSONATE_USER_HEADER = 'impersonate-user';
export const IMPERSONATE_UID_HEADER = 'impersonate-uid';
export const IMPERSONATE_GROUP_HEADER = 'impersonate-group';
export const IMPERSONATE_EXTRA_PREFIX = 'impersonate-extra-';
const ANONYMOUS_USER = 'system:anonymous';
const UNAUTHENTICATED_GROUP = 'system:unauthenticated';

type Headers = Record<string, string | string[] | undefined>;

/** One thing the requestor asks to act as. */
export type ImpersonationRequest =
  | { kind: 'User'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string }
  | { kind: 'Group'; name: string }
  | { kind: 'UserExtra'; key: string; value: string }
  | { kind: 'UID'; name: string };

const values = (h: string | string[] | undefined): string[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/**
 * The impersonation requests in the headers, in upstream's order (user, groups, extras, uid). Pass
 * Node's `headersDistinct` (or any map whose repeated headers are arrays): repeated Impersonate-Group
 * headers are separate groups. Throws upstream's 500 when groups, extras or a uid come without a user.
 */
export function impersonationRequests(headers: Headers): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  const lower = new Map<string, string[]>();
  for (const [k, v] of Object.entries(headers)) lower.set(k.toLowerCase(), [...(lower.get(k.toLowerCase()) ?? []), ...values(v)]);
  const user = lower.get(IMPERSONATE_USER_HEADER)?.[0] ?? '';
  if (user) {
    const sa = splitServiceAccountUsername(user);
    out.push(sa ? { kind: 'ServiceAccount', ...sa } : { kind: 'User', name: user });
  }
  let other = false;
  for (const g of lower.get(IMPERSONATE_GROUP_HEADER) ?? []) {
    other = true;
    out.push({ kind: 'Group', name: g });
  }
  for (const [name, vs] of lower) {
    if (!name.startsWith(IMPERSONATE_EXTRA_PREFIX)) continue;
    other = true;
    const key = unescapeExtraKey(name.slice(IMPERSONATE_EXTRA_PREFIX.length));
    for (const value of vs) out.push({ kind: 'UserExtra', key, value });
  }
  const uid = lower.get(IMPERSONATE_UID_HEADER)?.[0] ?? '';
  if (uid) {
    other = true;
    out.push({ kind: 'UID', name: uid });
  }
  if (other && !user) {
    const described = out.map((r) => (r.kind === 'UserExtra' ? `{UserExtra ${r.key}=${r.value}}` : `{${r.kind} ${r.name}}`)).join(' ');
    throw internal(new Error(`requested [${described}] without impersonating a user`));
  }
  return out;
}

/** The authorization check for one impersonation request. */
export function impersonationAttributes(requestor: UserInfo, r: ImpersonationRequest): AuthorizationAttributes {
  const base = { user: requestor, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: '', namespace: '', subresource: '' };
  switch (r.kind) {
    case 'User':
      return { ...base, apiGroup: '', resource: 'users', name: r.name };
    case 'ServiceAccount':
      return { ...base, apiGroup: '', resource: 'serviceaccounts', namespace: r.namespace, name: r.name };
    case 'Group':
      return { ...base, apiGroup: '', resource: 'groups', name: r.name };
    case 'UserExtra':
      return { ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: r.key, name: r.value };
    case 'UID':
      return { ...base, apiGroup: 'authentication.k8s.io', resource: 'uids', name: r.name };
  }
}

/** Upstream's 403 for a refused check: `users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope`. */
export function impersonationForbidden(attrs: AuthorizationAttributes, reason: string) {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? ` in the namespace "${attrs.namespace}"` : ' at the cluster scope';
  const msg = `User "${attrs.user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}"${scope}`;
  return forbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, reason ? `${msg}: ${reason}` : msg);
}

/**
 * The user a request acts as: `user` itself when it carries no impersonation headers, otherwise the
 * impersonated user once every part of it has been authorized. Throws a 403 StatusError otherwise.
 */
export async function applyImpersonation(headers: Headers, user: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const requests = impersonationRequests(headers);
  if (!requests.length) return user;
  const groupsSpecified = requests.some((r) => r.kind === 'Group');
  let name = '';
  let uid = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs = impersonationAttributes(user, r);
    const decision = await authorizer.authorize(attrs);
    if (!decision.allowed) throw impersonationForbidden(attrs, decision.reason);
    switch (r.kind) {
      case 'User':
        name = r.name;
        break;
      case 'ServiceAccount':
        name = makeServiceAccountUsername(r.namespace, r.name);
        // A service account's groups are a fixed mapping; they are added unless groups were given.
        if (!groupsSpecified) groups = serviceAccountGroups(r.namespace);
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra': {
        // Extra keys come from header names (`Impersonate-Extra-constructor`): own keys only.
        const values = getOwn(extra, r.key);
        if (values) values.push(r.value);
        else setOwn(extra, r.key, [r.value]);
        break;
      }
      case 'UID':
        uid = r.name;
        break;
    }
  }
  if (name !== ANONYMOUS_USER) {
    if (!groups.includes(AUTHENTICATED_GROUP) && !groups.includes(UNAUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  } else if (!groups.includes(UNAUTHENTICATED_GROUP)) {
    groups.push(UNAUTHENTICATED_GROUP);
  }
  const out: UserInfo = { name, groups };
  if (uid) out.uid = uid;
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}
