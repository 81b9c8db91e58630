// CPU profiles of a running apiserver, one per benchmark phase, taken over the inspector protocol
// (Profiler.start/stop through the --inspect WebSocket): the same data as `node --cpu-prof`, but cut to
// the phase being measured instead of the whole process life. Used by bench:apiserver --profile
// (npm run profile:apiserver). Talks only to 127.0.0.1.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { summarizeProfile, type ProfileSummary } from './dns/profile.js';

/** NODE_OPTIONS for the apiserver process: an inspector on 127.0.0.1:port (no pause at start). */
export function inspectOption(port: number): string {
  return `--inspect=127.0.0.1:${port}`;
}

export class PhaseProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly ws: WebSocket,
    readonly dir: string,
  ) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
  }

  /** Connects to the inspector of the process listening on 127.0.0.1:port (retrying for up to 10 s). */
  static async connect(port: number, dir: string): Promise<PhaseProfiler> {
    const deadline = Date.now() + 10_000;
    let url: string | undefined;
    while (!url) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        url = targets[0]?.webSocketDebuggerUrl;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`no inspector on 127.0.0.1:${port}: ${(err as Error).message}`);
      }
      if (!url) await new Promise((r) => setTimeout(r, 200));
    }
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const profiler = new PhaseProfiler(ws, dir);
    await profiler.send('Profiler.enable');
    await profiler.send('Profiler.setSamplingInterval', { interval: 250 });
    return profiler;
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Runs fn with the apiserver's profiler on; writes <dir>/<name>.cpuprofile and returns its summary. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<{ value: T; file: string; summary: ProfileSummary }> {
    await this.send('Profiler.start');
    let value: T;
    try {
      value = await fn();
    } finally {
      const { profile } = (await this.send('Profiler.stop')) as { profile: unknown };
      writeFileSync(join(this.dir, `${name}.cpuprofile`), JSON.stringify(profile));
    }
    const file = join(this.dir, `${name}.cpuprofile`);
    return { value, file, summary: summarizeProfile(file, 15) };
  }

  close(): void {
    this.ws.close();
  }
}

/** The top self-time functions of one phase, as printed after the benchmark table. */
export function formatSummary(name: string, file: string, s: ProfileSummary): string {
  const lines = [
    `profile ${name}: ${file} (${s.totalMs} ms, idle ${s.idlePct}%, busy ${s.busyMs} ms, GC ${s.gcPct}% of busy)`,
    ...s.functions.map((f) => `  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`),
  ];
  return lines.join('\n');
}
