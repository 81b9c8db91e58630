// The transport floor under a LIST, for bench:apiserver: a bare node:https server (a child process, as the
// apiserver is) with the apiserver's serving certificate and key, so the TLS cost is the same, answering
// every GET with the same response body the apiserver gave (read once from a file), written in one piece
// with its content-length. Listens on 127.0.0.1 and tells its parent the port over IPC.
// Argv: <pki dir> <body file>.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [pkiDir, bodyFile] = process.argv.slice(2);
if (!pkiDir || !bodyFile || !process.send) throw new Error('usage: forked with <pki dir> <body file>');
const body = readFileSync(bodyFile);
const server = https.createServer(
  { cert: readFileSync(join(pkiDir, 'apiserver.crt')), key: readFileSync(join(pkiDir, 'apiserver.key')), ca: readFileSync(join(pkiDir, 'ca.crt')), requestCert: true, rejectUnauthorized: false },
  (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
// Ends with its parent (the IPC channel closes).
process.on('disconnect', () => process.exit(0));
