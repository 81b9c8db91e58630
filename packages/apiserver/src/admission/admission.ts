// Admission: plugins run in order, mutating first (before validation and storage), then validating
// (with the final object, inside the write). Plugins are chosen with --enable-admission-plugins and
// --disable-admission-plugins, as upstream.
import type { KubeObject, ResourceInfo } from '@kubelab/api';
import type { UserInfo } from '../auth/authn.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  resource: ResourceInfo;
  subresource: string;
  namespace: string;
  name: string;
  object: KubeObject | null;
  oldObject: KubeObject | null;
  user: UserInfo;
  dryRun: boolean;
  /**
   * Warnings for the client (one `Warning: 299 - "<text>"` response header each). Plugins append with
   * addWarning(); the handler should pass one array shared by the admit and validate attributes of a request.
   */
  warnings?: string[];
}

/** Adds a warning to the request (creating the list if the handler did not). */
export function addWarning(attrs: AdmissionAttributes, message: string): void {
  (attrs.warnings ??= []).push(message);
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Mutating phase: may change attrs.object. Throw a StatusError to reject. */
  admit?(attrs: AdmissionAttributes): Promise<void>;
  /** Validating phase: may not change anything. Throw a StatusError to reject. */
  validate?(attrs: AdmissionAttributes): Promise<void>;
}

export class AdmissionChain {
  constructor(readonly plugins: AdmissionPlugin[]) {}

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  async admit(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attrs);
  }

  async validate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attrs);
  }
}

/** Resolves the enabled plugin list: upstream's default-on set, plus enabled, minus disabled, in canonical order. */
export function selectPlugins(order: string[], defaults: string[], enable: string[], disable: string[]): string[] {
  const unknown = [...enable, ...disable].filter((n) => !order.includes(n));
  if (unknown.length) throw new Error(`enable-admission-plugins plugin "${unknown[0]}" is unknown`);
  const on = new Set([...defaults, ...enable]);
  for (const d of disable) on.delete(d);
  return order.filter((n) => on.has(n));
}
