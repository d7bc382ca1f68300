import { checkServerIdentity, TLSSocket } from 'node:tls';
import type { Connection, SslOptions } from 'mysql2';
import type { EffectiveTls } from '../tls';
import type { UrlTlsSpelling } from '../tls-url';

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

/**
 * mysql2's `ssl` option; undefined for no TLS. The chain is checked from verify-ca on; the host
 * name (verify-full) by checkServerIdentityOnUpgrade.
 */
export function mysqlSsl(tls: EffectiveTls): SslOptions | undefined {
  if (tls.mode === 'disable') return undefined;
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: tls.mode !== 'require',
    verifyIdentity: false,
  };
}

type OnSecure = (err?: Error & { code?: string; tlsCode?: string }) => void;
type Upgradable = Connection & { startTLS(onSecure: OnSecure): void; stream: TLSSocket };

/**
 * mysql2 checks a certificate's host name only when the host is a DNS name (for an IP
 * address, Node checks it against "localhost"), and replaces the code of every TLS error
 * with HANDSHAKE_SSL_ERROR. So bqsync checks the name itself, right after the handshake and
 * before the credentials are sent, and keeps Node's code in `tlsCode` (sources/tls.ts).
 */
export function checkServerIdentityOnUpgrade(conn: Connection, tls: EffectiveTls, host: string | undefined): void {
  const upgradable = conn as Upgradable;
  const startTLS = upgradable.startTLS.bind(conn);
  upgradable.startTLS = (onSecure) =>
    startTLS((err) => {
      if (err) {
        err.tlsCode = err.code;
        return onSecure(err);
      }
      if (tls.mode === 'verify-full') {
        const name = (host || 'localhost').replace(/^\[(.*)\]$/, '$1');
        const wrongHost = checkServerIdentity(name, upgradable.stream.getPeerCertificate(true));
        if (wrongHost) {
          (wrongHost as Error & { tlsCode?: string }).tlsCode = (wrongHost as Error & { code?: string }).code;
          return onSecure(wrongHost);
        }
      }
      onSecure();
    });
}
