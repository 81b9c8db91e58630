import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCRILogLine, readLogs, tailStart, type LogOptions } from './logs.js';

const FILE = [
  '2026-12-03T10:00:00.000000001Z stdout F line 1',
  '2026-12-03T10:00:01.000000002Z stderr F oops',
  '2026-12-03T10:00:02.000000003Z stdout P part',
  '2026-12-03T10:00:02.500000000Z stdout F ial line',
  '2026-12-03T10:00:03.000000004Z stdout F line 4',
  '',
].join('\n');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-logs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function read(opts: LogOptions, content = FILE): Promise<string> {
  const path = join(dir, '0.log');
  writeFileSync(path, content);
  const chunks: Buffer[] = [];
  await readLogs(path, opts, (c) => chunks.push(Buffer.from(c)));
  return Buffer.concat(chunks).toString();
}

describe('CRI log files', () => {
  it('parses records: time, stream, full or partial, content', () => {
    expect(parseCRILogLine(Buffer.from('2026-12-03T10:00:00.1Z stderr F a b  c'))).toEqual({
      timestamp: '2026-12-03T10:00:00.1Z', stream: 'stderr', full: true, content: Buffer.from('a b  c'),
    });
    expect(parseCRILogLine(Buffer.from('2026-12-03T10:00:00.1Z stdout P x'))?.full).toBe(false);
    expect(parseCRILogLine(Buffer.from('2026-12-03T10:00:00.1Z stdout F'))?.content.length).toBe(0);
    expect(parseCRILogLine(Buffer.from('not a record'))).toBeUndefined();
  });

  it('writes both streams in order and joins partial lines', async () => {
    expect(await read({})).toBe('line 1\noops\npartial line\nline 4\n');
  });

  it('prefixes each line (not each fragment) with its timestamp', async () => {
    expect(await read({ timestamps: true })).toBe(
      '2026-12-03T10:00:00.000000001Z line 1\n2026-12-03T10:00:01.000000002Z oops\n2026-12-03T10:00:02.000000003Z partial line\n2026-12-03T10:00:03.000000004Z line 4\n',
    );
  });

  it('keeps the last N records with tailLines, none with 0', async () => {
    expect(await read({ tailLines: 1 })).toBe('line 4\n');
    expect(await read({ tailLines: 2 })).toBe('ial line\nline 4\n');
    expect(await read({ tailLines: 0 })).toBe('');
    expect(await read({ tailLines: 100 })).toBe('line 1\noops\npartial line\nline 4\n');
    expect(tailStart(Buffer.from('a\nb\nc'), 1)).toBe(4);
  });

  it('skips records before sinceTime and stops at limitBytes', async () => {
    expect(await read({ sinceMs: Date.parse('2026-12-03T10:00:01Z') })).toBe('oops\npartial line\nline 4\n');
    expect(await read({ limitBytes: 9 })).toBe('line 1\noo');
  });

  it('follows the file until the container stops running, then ends', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, '2026-12-03T10:00:00Z stdout F first\n');
    let running = true;
    const chunks: string[] = [];
    const done = readLogs(path, { follow: true }, (c) => chunks.push(c.toString()), { running: async () => running, pollMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(path, '2026-12-03T10:00:01Z stdout F second\n');
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(path, '2026-12-03T10:00:02Z stdout F last\n');
    running = false;
    await done;
    expect(chunks.join('')).toBe('first\nsecond\nlast\n');
  });

  it('stops following when the client goes away', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, '2026-12-03T10:00:00Z stdout F first\n');
    const abort = new AbortController();
    const done = readLogs(path, { follow: true }, () => undefined, { running: async () => true, signal: abort.signal, pollMs: 20 });
    setTimeout(() => abort.abort(), 50);
    await expect(done).resolves.toBeUndefined();
  });
});
