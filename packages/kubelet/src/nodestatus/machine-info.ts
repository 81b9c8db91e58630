// What the kubelet reports about its machine (upstream: cAdvisor's MachineInfo and the kubelet's
// nodestatus.MachineInfo / VersionInfo inputs), read from /proc, /etc and the kernel.
import { readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

export interface MachineInfo {
  numCores: number;
  memoryCapacityBytes: number;
  /** Capacity of the filesystem holding the kubelet's root dir (ephemeral-storage). */
  rootfsCapacityBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Go's GOARCH for Node's process.arch. */
export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** PRETTY_NAME of os-release, as the kubelet's osImage. */
export function osImageFrom(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m ? m[1]!.replace(/^"(.*)"$/, '$1') : 'Linux';
}

export function readMachineInfo(rootDir: string): MachineInfo {
  let rootfsCapacityBytes = 0;
  try {
    const s = statfsSync(rootDir);
    rootfsCapacityBytes = s.blocks * s.bsize;
  } catch {
    // The root dir may not exist yet; capacity is then unknown (0).
  }
  const machineID = readTrimmed('/etc/machine-id') || readTrimmed('/var/lib/dbus/machine-id');
  return {
    numCores: availableParallelism(),
    memoryCapacityBytes: totalmem(),
    rootfsCapacityBytes,
    machineID,
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid') || machineID,
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: osImageFrom(readTrimmed('/etc/os-release')),
    operatingSystem: 'linux',
    architecture: goArch(),
  };
}
