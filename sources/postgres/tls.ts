import type { ConnectionOptions } from 'node:tls';
import { EffectiveTls, nodeTlsOptions } from '../tls';
import type { UrlTlsSpelling } from '../tls-url';

/** libpq's parameter names and modes; the fallback modes (allow, prefer) are refused. */
export const POSTGRES_URL_TLS: UrlTlsSpelling = {
  mode: { sslmode: { disable: 'disable', require: 'require', 'verify-ca': 'verify-ca', 'verify-full': 'verify-full' } },
  caFile: ['sslrootcert'],
  certFile: ['sslcert'],
  keyFile: ['sslkey'],
  refused: {
    ssl: 'write sslmode=verify-full (or require, verify-ca, disable)',
    // node-postgres reads sslmode=require as verify-full unless this is set; bqsync applies libpq's meaning itself.
    uselibpqcompat: 'bqsync gives sslmode its libpq meaning; remove it',
  },
  hostParams: ['host'],
};

/**
 * node-postgres's `ssl` option, always given: a URL's sslmode never reaches node-postgres
 * (whose own reading of require has changed between versions), nor do PGSSLMODE and friends.
 */
export function postgresSsl(tls: EffectiveTls): ConnectionOptions | false {
  return nodeTlsOptions(tls) ?? false;
}
