// Timestamps as the API writes them (upstream: metav1.Time and metav1.MicroTime marshalling).

/** RFC 3339 with whole seconds, as metav1.Time: `2026-12-02T21:30:00Z` (the fraction is truncated). */
export function rfc3339(t: number | Date): string {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime (Leases, events.k8s.io): `2026-12-02T21:30:00.123000Z`. */
export function rfc3339Micro(t: number | Date): string {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
