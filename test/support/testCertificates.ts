// A throw-away certificate authority for TLS interop tests, made with the openssl CLI: a CA,
// a broker certificate for 127.0.0.1, and client certificates whose CN is the principal.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateSet {
  ca: string;
  broker: { cert: string; key: string };
  clients: Record<string, { cert: string; key: string }>;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function issue(dir: string, ca: { cert: string; key: string }, name: string, cn: string, ext: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile]);
  return { cert, key };
}

export function makeCertificates(dir: string, clientNames: string[]): CertificateSet {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ca.key, '-out', ca.cert, '-subj', '/CN=lockerd test fleet CA', '-days', '2']);
  const broker = issue(dir, ca, 'broker', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const clients: CertificateSet['clients'] = {};
  for (const name of clientNames) clients[name] = issue(dir, ca, `client-${name}`, name, 'extendedKeyUsage=clientAuth\n');
  return { ca: ca.cert, broker, clients };
}
