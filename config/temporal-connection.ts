import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, resolveSecret } from './load';
import type { Config } from './schema';

/** What both the client's Connection and the worker's NativeConnection take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/**
 * Connection options from `temporal:`: a plain address (a self-hosted server or the dev
 * server), an API key (Temporal Cloud; TLS on), or mTLS with a client certificate given
 * as PEM contents from the environment or as file paths. Secrets are read here, at connect
 * time, from the environment.
 */
export function temporalConnectionOptions(config: Config, file = 'the config file'): TemporalConnectionOptions {
  const { address, apiKey, tls } = config.temporal;
  const options: TemporalConnectionOptions = { address };
  // `${TEMPORAL_API_KEY:-}` lets one file serve Temporal Cloud and a local server: empty means none.
  const key = apiKey === undefined ? '' : resolveSecret(apiKey, 'temporal.apiKey', file);
  if (key) {
    options.apiKey = key;
    options.tls = true;
  }
  if (tls === true) options.tls = true;
  if (tls === false) {
    if (key) throw new ConfigError(file, ['temporal.tls is false but temporal.apiKey is set; an API key is sent only over TLS']);
    delete options.tls;
  }
  if (typeof tls === 'object') options.tls = tlsConfig(tls, file);
  return options;
}

type TlsSettings = Exclude<NonNullable<Config['temporal']['tls']>, boolean>;

function tlsConfig(tls: TlsSettings, file: string): TLSConfig {
  const problems: string[] = [];
  if (tls.cert && tls.certFile) problems.push('temporal.tls gives both cert and certFile; keep one');
  if (tls.key && tls.keyFile) problems.push('temporal.tls gives both key and keyFile; keep one');
  const hasCert = Boolean(tls.cert || tls.certFile);
  const hasKey = Boolean(tls.key || tls.keyFile);
  if (hasCert !== hasKey) problems.push('temporal.tls needs both a client certificate (cert or certFile) and its key (key or keyFile), or neither');
  if (problems.length > 0) throw new ConfigError(file, problems);

  const readFile = (key: string, p: string) => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new ConfigError(file, [`temporal.tls.${key}: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
  };
  const config: TLSConfig = {};
  if (tls.serverName) config.serverNameOverride = tls.serverName;
  if (tls.caFile) config.serverRootCACertificate = readFile('caFile', tls.caFile);
  if (hasCert) {
    const crt = tls.certFile ? readFile('certFile', tls.certFile) : Buffer.from(pemFromEnv(tls.cert!));
    const key = tls.keyFile ? readFile('keyFile', tls.keyFile) : Buffer.from(pemFromEnv(resolveSecret(tls.key!, 'temporal.tls.key', file)));
    config.clientCertPair = { crt, key };
  }
  return config;
}

/** Secrets Manager values and env files often carry PEM with literal `\n`; restore the newlines. */
function pemFromEnv(value: string): string {
  return value.includes('\\n') && !value.includes('\n') ? value.replace(/\\n/g, '\n') : value;
}
