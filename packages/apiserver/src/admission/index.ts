// The admission plugins this server knows, in upstream's order, and the ones on by default.
import type { ExtensionDeps } from '../extension.js';
import { AdmissionChain, selectPlugins, type AdmissionPlugin } from './admission.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';

/** Name -> factory, in upstream's plugin order. */
const PLUGINS: [string, (deps: ExtensionDeps) => AdmissionPlugin][] = [['NamespaceLifecycle', (d) => new NamespaceLifecycle(d.getNamespace)]];

/** On unless disabled, as upstream's default-on set (of the plugins implemented here). */
const DEFAULT_ON = ['NamespaceLifecycle'];

export function buildAdmission(deps: ExtensionDeps): AdmissionChain {
  const order = PLUGINS.map(([n]) => n);
  const enabled = selectPlugins(order, DEFAULT_ON, deps.config.enableAdmissionPlugins, deps.config.disableAdmissionPlugins);
  return new AdmissionChain(PLUGINS.filter(([n]) => enabled.includes(n)).map(([, make]) => make(deps)));
}
