// The authentication chain from the configuration, in upstream's order: x509 client certificates,
// then bearer tokens (--token-auth-file, service account JWTs, bootstrap tokens), then anonymous when
// --anonymous-auth allows it. Also builds the authentication API's create-only storages, which ask the
// same token authenticators.
import { readFileSync } from 'node:fs';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { KubeObject } from '@kubelab/api';
import type { ServerDeps } from '../server-deps.js';
import type { Creater, NamedCreater } from '../registry/rest.js';
import { X509Authenticator, type Authenticator, type UserInfo } from './authn.js';
import { BootstrapTokenAuthenticator } from './bootstrap-token.js';
import { publicKeysFromPem } from './jwt.js';
import { selfSubjectReviewREST, tokenRequestREST, tokenReviewREST } from './authn-reviews.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer, type TokenObjectGetter } from './serviceaccount.js';
import { TokenFileAuthenticator } from './token-file.js';
import { BearerTokenAuthenticator, UnionTokenAuthenticator, type TokenAuthenticator } from './token.js';

export interface AuthenticationChain {
  authenticators: Authenticator[];
  /** Whether requests no authenticator recognises may proceed as system:anonymous. */
  anonymous: boolean;
  /** TokenReview, SelfSubjectReview, and TokenRequest when --service-account-signing-key-file is set. */
  storages: { tokenReviews: Creater; selfSubjectReviews: Creater; serviceAccountToken?: NamedCreater };
}

/**
 * Tries each authenticator in order (upstream's union request authenticator): the first user wins; an
 * authenticator's error (bad client certificate, refused token) only fails the request (401) when no
 * other authenticator recognises it.
 */
export class UnionAuthenticator implements Authenticator {
  constructor(private readonly authenticators: Authenticator[]) {}

  async authenticate(req: Parameters<Authenticator['authenticate']>[0]): Promise<UserInfo | undefined> {
    let failure: unknown;
    for (const a of this.authenticators) {
      try {
        const user = await a.authenticate(req);
        if (user) return user;
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return undefined;
  }
}

/** --api-audiences, defaulting to the service account issuer as upstream does. */
export function apiAudiencesOf(config: { apiAudiences: string[]; serviceAccountIssuer: string }): string[] {
  if (config.apiAudiences.length) return [...config.apiAudiences];
  return config.serviceAccountIssuer ? [config.serviceAccountIssuer] : [];
}

/** Reads service accounts, pods, secrets and nodes from storage (etcd, so a deletion is seen at once). */
export function registryTokenGetter(deps: ServerDeps): TokenObjectGetter {
  const get = (resource: string) => (ns: string, name: string): Promise<KubeObject> => deps.registry.store('', 'v1', resource).get(ns, name);
  return {
    getServiceAccount: get('serviceaccounts'),
    getPod: get('pods'),
    getSecret: get('secrets'),
    getNode: (name) => get('nodes')('', name),
  };
}

export function createAuthentication(deps: ServerDeps): AuthenticationChain {
  const { config, logger, clock } = deps;
  const audiences = apiAudiencesOf(config);
  const getter = registryTokenGetter(deps);
  const tokenAuthenticators: TokenAuthenticator[] = [];

  if (config.tokenAuthFile) {
    tokenAuthenticators.push(TokenFileAuthenticator.fromFile(config.tokenAuthFile, audiences, (msg) => logger.warn(msg)));
  }

  // Upstream verifies with the signing key when no --service-account-key-file is given.
  const keyFiles = config.serviceAccountKeyFiles.length ? config.serviceAccountKeyFiles : config.serviceAccountSigningKeyFile ? [config.serviceAccountSigningKeyFile] : [];
  const keys: KeyObject[] = keyFiles.flatMap((f) => {
    const found = publicKeysFromPem(readFileSync(f, 'utf8'));
    if (!found.length) throw new Error(`--service-account-key-file: no public keys found in ${f}`);
    return found;
  });
  if (keys.length) {
    tokenAuthenticators.push(
      new ServiceAccountTokenAuthenticator({ issuers: [config.serviceAccountIssuer], keys, implicitAudiences: audiences, getter, clock }),
    );
  }

  if (config.enableBootstrapTokenAuth) {
    tokenAuthenticators.push(
      new BootstrapTokenAuthenticator({ getSecret: getter.getSecret, implicitAudiences: audiences, clock, log: (msg) => logger.debug(msg) }),
    );
  }

  const tokens = new UnionTokenAuthenticator(tokenAuthenticators);
  const authenticators: Authenticator[] = [];
  // Without --client-ca-file there is no x509 authenticator: presented certificates are ignored, as upstream.
  if (config.clientCAFile) {
    authenticators.push(new X509Authenticator((reason, subject) => logger.info({ reason, subject }, 'Unable to authenticate the request due to an error')));
  }
  if (tokens.size) {
    authenticators.push(new BearerTokenAuthenticator(tokens, audiences, (error) => logger.debug({ error }, 'Unable to authenticate the request')));
  }

  const storages: AuthenticationChain['storages'] = {
    tokenReviews: tokenReviewREST({ tokens, apiAudiences: audiences }),
    selfSubjectReviews: selfSubjectReviewREST(clock),
  };
  if (config.serviceAccountSigningKeyFile) {
    const privateKey = createPrivateKey(readFileSync(config.serviceAccountSigningKeyFile));
    const issuer = new ServiceAccountTokenIssuer(privateKey, config.serviceAccountIssuer);
    storages.serviceAccountToken = tokenRequestREST({ issuer, getter, apiAudiences: audiences, clock });
  }

  return { authenticators: [new UnionAuthenticator(authenticators)], anonymous: config.anonymousAuth, storages };
}
