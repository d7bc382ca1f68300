import { RDS_CA_BUNDLE_URL } from './tls';

/** Node's codes for a server certificate it does not trust, or one issued to another host. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);
const WRONG_HOST_CODE = 'ERR_TLS_CERT_ALTNAME_INVALID';

/** What went wrong with TLS at connect time, if it was TLS; undefined for any other error. */
export type TlsFailure = 'untrusted-certificate' | 'wrong-host' | 'no-tls-at-server' | 'tls-required-by-server' | 'client-certificate';

export function tlsFailure(err: unknown): TlsFailure | undefined {
  // A driver that renames TLS errors keeps Node's code in tlsCode (sources/mysql/tls.ts).
  const e = err as { code?: unknown; tlsCode?: unknown } | undefined;
  const code = String(e?.tlsCode ?? e?.code ?? '');
  const message = String((err as Error)?.message ?? '');
  if (code === WRONG_HOST_CODE) return 'wrong-host';
  if (UNTRUSTED_CERT_CODES.has(code)) return 'untrusted-certificate';
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || /server does not support SSL|does not support secure connection/i.test(message)) return 'no-tls-at-server';
  // MySQL's require_secure_transport; a pg_hba.conf that has only hostssl lines for this client.
  if (code === 'ER_SECURE_TRANSPORT_REQUIRED' || /no pg_hba\.conf entry for .*no encryption/i.test(message)) return 'tls-required-by-server';
  if (/^ERR_OSSL_|KEY_VALUES_MISMATCH|PEM_read_bio/i.test(code) || /bad decrypt|no start line|key values mismatch/i.test(message)) return 'client-certificate';
  return undefined;
}

/** What to change, for a TLS failure of source `source` (no secret in it). */
export function tlsFix(kind: TlsFailure, source: string): string {
  const where = `sources.${source}.tls (or the URL's sslmode / sslrootcert)`;
  switch (kind) {
    case 'untrusted-certificate':
      return (
        `the server's certificate is not signed by a CA this worker trusts; give the CA bundle that signed it in ${where}: ` +
        `caFile: /path/to/bundle.pem, or ca: \${ENV_VAR} holding the PEM (Amazon RDS and Aurora: ${RDS_CA_BUNDLE_URL})`
      );
    case 'wrong-host':
      return (
        `the server's certificate was not issued to the host name in the URL (sslmode verify-full); connect by the name the certificate ` +
        `names (on RDS, the instance or cluster endpoint, not an IP address or a CNAME of your own), or set mode: verify-ca in ${where}`
      );
    case 'no-tls-at-server':
      return `the server does not offer TLS; enable TLS on the server, or set mode: disable in ${where} where the network is private`;
    case 'tls-required-by-server':
      return `the server accepts only TLS connections, and TLS is disabled for this source; set mode: verify-full (with the CA bundle in caFile) in ${where}`;
    case 'client-certificate':
      return `the client certificate or key cannot be used; check that cert and key (certFile, keyFile) in ${where} are PEM and belong together`;
  }
}
