// ClusterIP and NodePort allocation. Each allocated value is one key in etcd
// (/registry/ipallocations/<ip>, /registry/portallocations/<port>) created with create-if-absent, so
// allocation is persisted and conflict-free across apiserver replicas: two servers racing for the
// same value see one create succeed and the other fail with KeyExists.
import { StatusError, fieldErrors, type FieldError } from '@kubelab/api';
import { StorageError, type Storage } from '../storage/interface.js';
import { cidrContains, nthIp, parseCidr, type Cidr } from './cidr.js';

export class AllocationError extends Error {
  constructor(readonly fieldError: FieldError) {
    super(fieldError.detail);
  }
}

interface Range<T> {
  prefix: string;
  describe: string;
  size: number;
  valueAt(i: number): T;
  contains(v: T): boolean;
  outOfRange(v: T): string;
  inUse(v: T): string;
}

class Allocator<T extends string | number> {
  constructor(
    private readonly storage: Storage,
    private readonly range: Range<T>,
  ) {}

  private key(v: T): string {
    return `${this.range.prefix}${v}`;
  }

  private record(v: T, owner: string) {
    return { apiVersion: 'v1', kind: 'Allocation', metadata: { name: String(v) }, owner };
  }

  /** Claims a specific value; throws AllocationError when taken or out of range. */
  async allocate(v: T, owner: string, field: string, badValue: unknown): Promise<void> {
    if (!this.range.contains(v)) throw new AllocationError(fieldErrors.invalid(field, badValue, this.range.outOfRange(v)));
    try {
      await this.storage.create(this.key(v), this.record(v, owner));
    } catch (err) {
      if (err instanceof StorageError && err.code === 'KeyExists') {
        throw new AllocationError(fieldErrors.invalid(field, badValue, this.range.inUse(v)));
      }
      throw err;
    }
  }

  /** Claims any free value, starting at a random offset. */
  async allocateNext(owner: string, field: string): Promise<T> {
    const used = new Set((await this.storage.list(this.range.prefix)).items.map((o) => o.metadata.name));
    const start = Math.floor(Math.random() * this.range.size);
    for (let i = 0; i < this.range.size; i++) {
      const v = this.range.valueAt((start + i) % this.range.size);
      if (used.has(String(v))) continue;
      try {
        await this.storage.create(this.key(v), this.record(v, owner));
        return v;
      } catch (err) {
        if (err instanceof StorageError && err.code === 'KeyExists') continue; // another server won it
        throw err;
      }
    }
    throw new StatusError({ code: 500, reason: 'InternalError', message: `Internal error occurred: failed to allocate a ${field}: range is full` });
  }

  async release(v: T): Promise<void> {
    try {
      await this.storage.delete(this.key(v));
    } catch (err) {
      if (!(err instanceof StorageError && err.code === 'KeyNotFound')) throw err;
    }
  }
}

export class ClusterIPAllocator extends Allocator<string> {
  readonly cidr: Cidr;
  constructor(storage: Storage, cidrText: string) {
    const cidr = parseCidr(cidrText);
    // Upstream reserves the network and the broadcast address.
    super(storage, {
      prefix: '/registry/ipallocations/',
      describe: cidrText,
      size: Math.max(0, cidr.size - 2),
      valueAt: (i) => nthIp(cidr, i + 1),
      contains: (ip) => cidrContains(cidr, ip) && ip !== nthIp(cidr, 0) && ip !== nthIp(cidr, cidr.size - 1),
      outOfRange: (ip) => `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${cidrText}`,
      inUse: (ip) => `failed to allocate IP ${ip}: provided IP is already allocated`,
    });
    this.cidr = cidr;
  }
}

export class NodePortAllocator extends Allocator<number> {
  constructor(storage: Storage, readonly min: number, readonly max: number) {
    super(storage, {
      prefix: '/registry/portallocations/',
      describe: `${min}-${max}`,
      size: max - min + 1,
      valueAt: (i) => min + i,
      contains: (p) => Number.isInteger(p) && p >= min && p <= max,
      outOfRange: () => `provided port is not in the valid range. The range of valid ports is ${min}-${max}`,
      inUse: () => 'provided port is already allocated',
    });
  }
}

export function parsePortRange(text: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`invalid port range "${text}"`);
  return { min: Number(m[1]), max: Number(m[2]) };
}
