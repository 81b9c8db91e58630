// NamespaceLifecycle: no new objects in a namespace that does not exist or is being terminated.
import { forbidden, notFound, type KubeObject } from '@kubelab/api';
import type { AdmissionPlugin, AdmissionAttributes } from './admission.js';

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  constructor(private readonly getNamespace: (name: string) => Promise<KubeObject | undefined>) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !a.resource.namespaced || !a.namespace) return;
    // Creating a subresource (pods/binding, pods/eviction) of an existing object is allowed while terminating.
    const ns = await this.getNamespace(a.namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, a.namespace);
    if (ns.status?.phase === 'Terminating' && !a.subresource) {
      throw forbidden(
        { group: a.resource.group, resource: a.resource.resource },
        a.name,
        `unable to create new content in namespace ${a.namespace} because it is being terminated`,
      );
    }
  }
}
