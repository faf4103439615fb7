// Certificates for TLS tests, made with the openssl command line: a private CA, a server
// certificate it signs for 127.0.0.1 (and localhost), and a second, unrelated CA whose file a
// client can be given to prove that an unknown issuer is refused. A CA-signed leaf (not a
// self-signed one) is what production uses, so clients verify a real chain and the server's IP
// against the subjectAltName. EC P-256 keys: a few milliseconds each, unlike RSA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestTls {
  /** the temp dir holding every file below */
  dir: string;
  /** PEM of the CA that signed certFile: what a client trusts (e.g. REDIS_TLS_CA_FILE) */
  caFile: string;
  /** PEM of the server certificate: CN and SAN IP:127.0.0.1, SAN DNS:localhost */
  certFile: string;
  /** PEM of the server's private key (mode 0600) */
  keyFile: string;
  /** PEM of another CA that signed nothing here: trusting it alone must fail verification */
  otherCaFile: string;
  /** Removes dir. */
  remove(): void;
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  // stdio piped, not inherited: openssl chatters on stderr, and execFileSync's error carries it on failure
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A self-signed CA certificate (basicConstraints CA:TRUE, so verifiers accept it as an issuer). */
function makeCa(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...KEY_ARGS, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** A server certificate for 127.0.0.1 signed by `ca`. */
function makeServerCert(dir: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  openssl(['req', '-new', ...KEY_ARGS, '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr]);
  // clients check the address they dialled against the SAN, never the CN
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n'
    + 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  // a random serial instead of -CAcreateserial: no .srl file, and no two test certificates share one
  const serial = `0x${execFileSync('openssl', ['rand', '-hex', '8'], { encoding: 'utf8' }).trim()}`;
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial,
    '-days', '1', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/** A fresh CA, a server certificate it signed for 127.0.0.1, and an unrelated CA, in a new temp dir. */
export function makeTestTls(label = 'tls'): TestTls {
  const dir = mkdtempSync(join(tmpdir(), `cpiwatch-${label}-`));
  const ca = makeCa(dir, 'ca', `cpiwatch ${label} test CA`);
  const server = makeServerCert(dir, ca);
  const other = makeCa(dir, 'other-ca', `cpiwatch ${label} unrelated CA`);
  return {
    dir, caFile: ca.cert, certFile: server.cert, keyFile: server.key, otherCaFile: other.cert,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
