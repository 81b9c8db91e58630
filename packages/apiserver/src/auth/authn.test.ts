import { describe, expect, it } from 'vitest';
import { X509Authenticator } from './authn.js';

const socket = (validFrom: string, validTo: string) => ({
  authorized: true,
  getPeerCertificate: () => ({ subject: { CN: 'system:node:n1', O: 'system:nodes' }, serialNumber: '01', valid_from: validFrom, valid_to: validTo }),
});

describe('X509Authenticator', () => {
  it('names the user of a verified certificate once per connection, and refuses it on that connection once it expires', async () => {
    let now = Date.parse('2026-12-03T10:00:00Z');
    const rejected: string[] = [];
    const authn = new X509Authenticator((reason) => rejected.push(reason), () => now);
    const conn = socket('Dec  3 09:00:00 2026 GMT', 'Dec  3 11:00:00 2026 GMT');
    expect(await authn.authenticate({ socket: conn })).toEqual({ name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
    now = Date.parse('2026-12-03T11:00:01Z');
    await expect(authn.authenticate({ socket: conn })).rejects.toMatchObject({ status: { code: 401 } });
    expect(rejected).toEqual(['x509: certificate has expired or is not yet valid']);
  });

  it('leaves a connection without a certificate to the other authenticators', async () => {
    const authn = new X509Authenticator();
    expect(await authn.authenticate({ socket: { authorized: false, getPeerCertificate: () => ({}) } })).toBeUndefined();
  });
});
