// --token-auth-file: a CSV of `token,user,uid[,"group1,group2"]`, read once at startup (upstream's
// tokenfile authenticator; the file is not reloaded).
import { readFileSync } from 'node:fs';
import type { UserInfo } from './authn.js';
import { audienceAgnostic, type TokenAuthenticator, type TokenAuthResult } from './token.js';

/**
 * Splits CSV text into records the way Go's encoding/csv reads it: comma separated, double-quoted
 * fields may hold commas, newlines and doubled quotes, blank lines are skipped, a stray quote inside an
 * unquoted field is an error.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  let line = 1;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length) {
    // A blank line is no record.
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    const record: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const startLine = line;
        i++;
        for (;;) {
          if (i >= text.length) throw new Error(`record on line ${startLine}; parse error on line ${line + 1}, column 0: extraneous or missing " in quoted-field`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          throw new Error(`parse error on line ${line}, column ${i}: extraneous or missing " in quoted-field`);
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw new Error(`parse error on line ${line}, column ${field.length + 1}: bare " in non-quoted-field`);
          field += text[i];
          i++;
        }
      }
      record.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    records.push(record);
  }
  return records;
}

export interface TokenFileEntries {
  users: Map<string, UserInfo>;
  /** Upstream logs these and goes on: empty and duplicate tokens. */
  warnings: string[];
}

/** Parses the token file's text. Throws (failing startup) on a record with fewer than 3 columns. */
export function parseTokenFile(text: string, path: string): TokenFileEntries {
  const users = new Map<string, UserInfo>();
  const warnings: string[] = [];
  let recordNum = 0;
  for (const record of parseCsv(text)) {
    if (record.length < 3) {
      throw new Error(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
    }
    recordNum++;
    const [token, name, uid, groups] = record as [string, string, string, string | undefined];
    if (!token) {
      warnings.push(`empty token has been found in token file '${path}', record number '${recordNum}'`);
      continue;
    }
    if (users.has(token)) warnings.push(`duplicate token has been found in token file '${path}', record number '${recordNum}'`);
    const user: UserInfo = { name, uid, groups: groups === undefined ? [] : groups.split(',').filter(Boolean) };
    users.set(token, user);
  }
  return { users, warnings };
}

export class TokenFileAuthenticator implements TokenAuthenticator {
  constructor(
    private readonly users: Map<string, UserInfo>,
    private readonly implicitAudiences: string[],
  ) {}

  /** Reads --token-auth-file; warnings (empty or duplicate tokens) go to warn. */
  static fromFile(path: string, implicitAudiences: string[], warn: (msg: string) => void = () => undefined): TokenFileAuthenticator {
    const entries = parseTokenFile(readFileSync(path, 'utf8'), path);
    for (const w of entries.warnings) warn(w);
    return new TokenFileAuthenticator(entries.users, implicitAudiences);
  }

  async authenticateToken(token: string, audiences?: string[]): Promise<TokenAuthResult | undefined> {
    const user = this.users.get(token);
    if (!user) return undefined;
    const auds = audienceAgnostic(this.implicitAudiences, audiences);
    if (!auds) return undefined;
    return { user: { ...user, groups: [...user.groups] }, audiences: auds };
  }
}
