import type { SslOptions } from 'mysql2';
import type { EffectiveTls, UrlTlsSpelling } from '../tls';

const MODES = { disable: 'disable', require: 'require', 'verify-ca': 'verify-ca', 'verify-full': 'verify-full' } as const;

/**
 * bqsync's spelling (sslmode=verify-full, sslrootcert=...) and the MySQL client's
 * (ssl-mode=VERIFY_IDENTITY, ssl-ca=...); PREFERRED, which falls back to no TLS, is refused.
 */
export const MYSQL_URL_TLS: UrlTlsSpelling = {
  mode: {
    sslmode: MODES,
    'ssl-mode': { disabled: 'disable', required: 'require', verify_ca: 'verify-ca', verify_identity: 'verify-full' },
  },
  caFile: ['sslrootcert', 'ssl-ca'],
  certFile: ['sslcert', 'ssl-cert'],
  keyFile: ['sslkey', 'ssl-key'],
  refused: { ssl: 'write sslmode=verify-full (or ssl-mode=VERIFY_IDENTITY) and sslrootcert=/path/to/ca.pem' },
  hostParams: ['socketPath'],
};

/** mysql2's `ssl` option; undefined for no TLS. verify-ca checks the chain, verify-full also the host name. */
export function mysqlSsl(tls: EffectiveTls): SslOptions | undefined {
  if (tls.mode === 'disable') return undefined;
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: tls.mode !== 'require',
    verifyIdentity: tls.mode === 'verify-full',
  };
}
