import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { runComponent, type ComponentCommand, type ProcessHooks } from './component.js';

function fakeProcess(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const handlers = new Map<string, () => void>();
  let exited: (code: number) => void = () => {};
  const exitedP = new Promise<number>((r) => (exited = r));
  const hooks: ProcessHooks = {
    argv,
    env: {},
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    // Records the code; runComponent returns right after exit, so nothing after it runs.
    exit: ((code: number) => {
      exits.push(code);
      exited(code);
    }) as (code: number) => never,
    onSignal: (sig, h) => void handlers.set(sig, h),
    logger: pino({ level: 'silent' }),
  };
  const signal = (sig: string) => handlers.get(sig)!();
  return { hooks, out, err, exits, exitedP, signal };
}

const run = (cmd: ComponentCommand<any, any>, hooks: ProcessHooks) => runComponent(cmd, hooks);

function command(events: string[], opts: { stopMs?: number; startFails?: boolean } = {}): ComponentCommand<{ port: { kind: 'int32' } }, { port: number }> {
  return {
    name: 'kube-test',
    flags: { port: { kind: 'int32' } },
    complete: (f) => {
      const port = f.port ?? 10;
      if (port < 0) throw new Error(`--port ${port} must be between 0 and 65535`);
      return Object.freeze({ port });
    },
    create: (config) => ({
      start: async () => {
        if (opts.startFails) throw new Error('boom');
        events.push(`start ${config.port}`);
      },
      stop: async () => {
        events.push('stop');
        await new Promise((r) => setTimeout(r, opts.stopMs ?? 0));
      },
    }),
    shutdownTimeoutMs: 100,
  };
}

describe('runComponent', () => {
  it('a bad flag is one line and exit 1, not a stack trace', async () => {
    const p = fakeProcess(['--port=abc']);
    await run(command([]), p.hooks);
    expect(p.exits).toEqual([1]);
    expect(p.err.join('')).toBe(`Error: invalid argument "abc" for "--port" flag: strconv.ParseInt: parsing "abc": invalid syntax\nRun 'kube-test --help' for usage.\n`);
  });
  it('an invalid config is one line and exit 1', async () => {
    const p = fakeProcess(['--port=-1']);
    await run(command([]), p.hooks);
    expect(p.exits).toEqual([1]);
    expect(p.err.join('')).toBe('Error: --port -1 must be between 0 and 65535\n');
  });
  it('--help prints the flags and exits 0', async () => {
    const p = fakeProcess(['--help']);
    await run(command([]), p.hooks);
    expect(p.exits).toEqual([0]);
    expect(p.out.join('')).toMatch(/Usage:\n {2}kube-test \[flags\]\n\nFlags:\n {6}--port int32/);
  });
  it('a failed start exits 1', async () => {
    const p = fakeProcess([]);
    await run(command([], { startFails: true }), p.hooks);
    expect(p.exits).toEqual([1]);
  });
  it('SIGTERM stops the component and exits 0', async () => {
    const events: string[] = [];
    const p = fakeProcess(['--port', '7']);
    await run(command(events), p.hooks);
    expect(events).toEqual(['start 7']);
    p.signal('SIGTERM');
    expect(await p.exitedP).toBe(0);
    expect(events).toEqual(['start 7', 'stop']);
  });
  it('a stop that hangs past the timeout exits 1; a second signal exits at once', async () => {
    const slow = fakeProcess([]);
    await run(command([], { stopMs: 1000 }), slow.hooks);
    slow.signal('SIGINT');
    expect(await slow.exitedP).toBe(1);

    const twice = fakeProcess([]);
    await run(command([], { stopMs: 1000 }), twice.hooks);
    twice.signal('SIGTERM');
    twice.signal('SIGTERM');
    expect(twice.exits[0]).toBe(1);
  });
});
