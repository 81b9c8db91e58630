// Counterpart of pkg/kubelet/reason_cache.go: the last error of each container's start (ErrImagePull,
// CrashLoopBackOff, CreateContainerConfigError ...), shown as its waiting reason and message.

export interface ContainerWaitingReason {
  reason: string;
  message: string;
}

export class ReasonCache {
  private readonly entries = new Map<string, ContainerWaitingReason>();

  private static key(uid: string, name: string): string {
    return `${uid}_${name}`;
  }

  add(uid: string, name: string, reason: string, message: string): void {
    this.entries.set(ReasonCache.key(uid, name), { reason, message });
  }

  remove(uid: string, name: string): void {
    this.entries.delete(ReasonCache.key(uid, name));
  }

  get(uid: string, name: string): ContainerWaitingReason | undefined {
    return this.entries.get(ReasonCache.key(uid, name));
  }

  /** Forgets every container of the pod. */
  removePod(uid: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(`${uid}_`)) this.entries.delete(k);
  }
}
