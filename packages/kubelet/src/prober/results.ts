// Counterpart of pkg/kubelet/prober/results/results_manager.go: the latest result of one kind of probe
// (liveness, readiness or startup) per container id, and a notification when a container's result changes.

/** A probe's outcome as the kubelet caches it (upstream results.Result). */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

/** A changed result (upstream results.Update). */
export interface ProbeResultUpdate {
  /** The runtime's container id (without the `containerd://` scheme). */
  containerID: string;
  result: ProbeResult;
  podUID: string;
}

/** Strips the `<runtime>://` scheme of an API container id. */
export function parseContainerID(id: string): string {
  const i = id.indexOf('://');
  return i < 0 ? id : id.slice(i + 3);
}

export class ProbeResultsManager {
  private readonly cache = new Map<string, ProbeResult>();
  private readonly listeners: ((u: ProbeResultUpdate) => void)[] = [];

  /** The cached result of the container (undefined when it has none). */
  get(containerID: string): ProbeResult | undefined {
    return this.cache.get(parseContainerID(containerID));
  }

  /** Caches the result; listeners hear of it when it differs from the cached one. */
  set(containerID: string, result: ProbeResult, podUID: string): void {
    const id = parseContainerID(containerID);
    if (this.cache.get(id) === result) return;
    this.cache.set(id, result);
    for (const l of this.listeners) l({ containerID: id, result, podUID });
  }

  remove(containerID: string): void {
    this.cache.delete(parseContainerID(containerID));
  }

  /** Called with every changed result (upstream's Updates channel). */
  onUpdate(listener: (u: ProbeResultUpdate) => void): void {
    this.listeners.push(listener);
  }
}
