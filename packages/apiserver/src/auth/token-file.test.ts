import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseTokenFile, TokenFileAuthenticator } from './token-file.js';
import { bearerToken, UnionTokenAuthenticator } from './token.js';

describe('token file', () => {
  it('parses CSV with quoted group lists, blank lines, CRLF and a BOM', () => {
    expect(parseCsv('\ufeffa,b,c\r\n\n"x,y","q""uote",z\n')).toEqual([
      ['a', 'b', 'c'],
      ['x,y', 'q"uote', 'z'],
    ]);
    expect(() => parseCsv('a,b"c,d\n')).toThrow(/bare " in non-quoted-field/);
  });

  it('reads token,user,uid,"groups" records', () => {
    const { users, warnings } = parseTokenFile('tok1,jane,uid-1,"dev,ops"\ntok2,bob,uid-2\n', '/f.csv');
    expect(users.get('tok1')).toEqual({ name: 'jane', uid: 'uid-1', groups: ['dev', 'ops'] });
    expect(users.get('tok2')).toEqual({ name: 'bob', uid: 'uid-2', groups: [] });
    expect(warnings).toEqual([]);
  });

  it('fails on a record with fewer than three columns, as upstream', () => {
    expect(() => parseTokenFile('tok,jane\n', '/f.csv')).toThrow("token file '/f.csv' must have at least 3 columns (token, user name, user uid), found 2");
  });

  it('skips empty tokens and lets a later duplicate win, with upstream warnings', () => {
    const { users, warnings } = parseTokenFile(',nobody,0\nt,first,1\nt,second,2\n', '/f.csv');
    expect(users.get('t')?.name).toBe('second');
    expect(users.size).toBe(1);
    expect(warnings).toEqual([
      "empty token has been found in token file '/f.csv', record number '1'",
      "duplicate token has been found in token file '/f.csv', record number '3'",
    ]);
  });

  it('authenticates known tokens for the server audiences only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokfile-'));
    writeFileSync(join(dir, 't.csv'), 'secret-token,jane,42,admins\n');
    const a = TokenFileAuthenticator.fromFile(join(dir, 't.csv'), ['api']);
    expect(await a.authenticateToken('secret-token')).toEqual({ user: { name: 'jane', uid: '42', groups: ['admins'] }, audiences: ['api'] });
    expect(await a.authenticateToken('secret-token', ['api', 'x'])).toMatchObject({ audiences: ['api'] });
    expect(await a.authenticateToken('secret-token', ['vault'])).toBeUndefined();
    expect(await a.authenticateToken('other')).toBeUndefined();
    const union = new UnionTokenAuthenticator([a]);
    expect(await union.authenticate('secret-token')).toMatchObject({ ok: true, result: { user: { groups: ['admins', 'system:authenticated'] } } });
    expect(await union.authenticate('nope')).toEqual({ ok: false, error: 'invalid bearer token' });
  });

  it('extracts bearer tokens as upstream (scheme case-insensitive)', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('  BEARER xyz  ')).toBe('xyz');
  });
});
