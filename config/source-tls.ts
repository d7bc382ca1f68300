import fs from 'node:fs';
import { ConfigError, resolveSecret } from './load';
import type { SourceConfig, SourceTlsConfig } from './schema';

/**
 * How a source connection uses TLS, in PostgreSQL's words for both engines:
 * - disable: no TLS (the password and the rows cross the network in clear);
 * - require: TLS, the server's certificate not checked (encrypted, but anyone on the path
 *   can pose as the server);
 * - verify-ca: TLS, the certificate signed by a trusted CA (any host name);
 * - verify-full: TLS, a trusted certificate issued to the host name connected to.
 */
export type TlsMode = NonNullable<SourceTlsConfig['mode']>;

/** TLS settings as given, from the URL or the config; PEM texts already read from files or the environment. */
export interface TlsSettings {
  mode?: TlsMode;
  /** CA certificates (one or many concatenated, like the RDS global bundle), PEM. */
  ca?: string;
  /** Client certificate and key (mutual TLS), PEM. The key is a secret. */
  cert?: string;
  key?: string;
}

/**
 * A source's `tls:` block with its files read and its key taken from the environment: done
 * where the connection is opened, like the URL, so that no PEM travels anywhere else.
 */
export function sourceTlsSettings(sourceName: string, source: SourceConfig, file = 'the config file'): TlsSettings | undefined {
  const tls = source.tls;
  if (!tls) return undefined;
  const at = `sources.${sourceName}.tls`;
  const problems: string[] = [];
  for (const [text, path] of [['ca', 'caFile'], ['cert', 'certFile'], ['key', 'keyFile']] as const) {
    if (tls[text] && tls[path]) problems.push(`${at} gives both ${text} and ${path}; keep one`);
  }
  if (Boolean(tls.cert || tls.certFile) !== Boolean(tls.key || tls.keyFile)) {
    problems.push(`${at} needs both a client certificate (cert or certFile) and its key (key or keyFile), or neither`);
  }
  if (tls.mode === 'disable' && (tls.ca || tls.caFile || tls.cert || tls.certFile)) {
    problems.push(`${at}.mode is disable, yet a CA or client certificate is given; remove one of them`);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);

  const read = (key: string, p: string) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch (err) {
      throw new ConfigError(file, [`${at}.${key}: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
  };
  return {
    mode: tls.mode,
    ca: tls.caFile ? read('caFile', tls.caFile) : tls.ca && pemText(tls.ca),
    cert: tls.certFile ? read('certFile', tls.certFile) : tls.cert && pemText(tls.cert),
    key: tls.keyFile ? read('keyFile', tls.keyFile) : tls.key && pemText(resolveSecret(tls.key, `${at}.key`, file)),
  };
}

/** Secrets Manager values and env files often carry PEM with literal `\n`; restore the newlines. */
export function pemText(value: string): string {
  return value.includes('\\n') && !value.includes('\n') ? value.replace(/\\n/g, '\n') : value;
}
