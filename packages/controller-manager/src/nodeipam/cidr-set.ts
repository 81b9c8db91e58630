// A set of equal-sized IPv4 subnets carved out of a cluster CIDR (upstream's ipam/cidrset): allocates
// the next free one round-robin, marks ones already in use, and releases them.

export function parseIPv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`invalid IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCIDR(cidr: string): { base: number; prefix: number } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 32) throw new Error(`invalid CIDR address: ${cidr}`);
  const prefix = Number(m[2]);
  const ip = parseIPv4(m[1]!);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export class CidrSet {
  readonly clusterCIDR: string;
  readonly maskSize: number;
  private readonly base: number;
  private readonly count: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(clusterCIDR: string, maskSize: number) {
    const { base, prefix } = parseCIDR(clusterCIDR);
    if (maskSize < prefix) throw new Error(`node CIDR mask size ${maskSize} is smaller than the cluster CIDR mask ${prefix}`);
    if (maskSize - prefix > 16) throw new Error(`CIDRSet: subnetwork mask ${maskSize} is too big (more than 16 bits) for cluster CIDR ${clusterCIDR}`);
    this.clusterCIDR = clusterCIDR;
    this.maskSize = maskSize;
    this.base = base;
    this.count = 2 ** (maskSize - prefix);
  }

  get size(): number {
    return this.count;
  }

  private indexOf(cidr: string): number | undefined {
    const { base, prefix } = parseCIDR(cidr);
    if (prefix !== this.maskSize) return undefined;
    const idx = (base - this.base) / 2 ** (32 - this.maskSize);
    return Number.isInteger(idx) && idx >= 0 && idx < this.count ? idx : undefined;
  }

  private cidrAt(i: number): string {
    return `${formatIPv4(this.base + i * 2 ** (32 - this.maskSize))}/${this.maskSize}`;
  }

  /** The next free subnet; throws when the range is full (upstream's ErrCIDRRangeNoCIDRsRemaining). */
  allocateNext(): string {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next + k) % this.count;
      if (this.used.has(i)) continue;
      this.used.add(i);
      this.next = (i + 1) % this.count;
      return this.cidrAt(i);
    }
    throw new Error('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  }

  /** Marks a subnet as in use; false if it is not one of this set's subnets. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  isUsed(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used.has(i);
  }
}
