// iptables binaries behind an interface, plus an in-memory fake (upstream's pkg/util/iptables).
export * from './iptables.js';
export * from './fake.js';
