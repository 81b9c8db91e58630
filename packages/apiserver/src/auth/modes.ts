// The --authorization-mode values this server implements (extended as modes are built).
export const SUPPORTED_AUTHORIZATION_MODES: string[] = ['AlwaysAllow', 'AlwaysDeny'];
