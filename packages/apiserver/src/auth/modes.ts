// The --authorization-mode values this server implements.
export const SUPPORTED_AUTHORIZATION_MODES: string[] = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'];
