import type { ConnectionOptions } from 'node:tls';
import type { TlsMode, TlsSettings } from '../config/source-tls';
import type { SourceFinding } from './driver';

export type { TlsMode, TlsSettings };

/** What a connection does, once URL, config and defaults are combined. */
export interface EffectiveTls extends TlsSettings {
  mode: TlsMode;
  /** The host is this machine (loopback or a Unix socket). */
  local: boolean;
}

/** The AWS bundle of every RDS/Aurora region's CA, for messages and the README. */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

/** Loopback names and addresses, or a Unix socket path (absolute, possibly percent-encoded). */
export function isLocalHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const h = host.toLowerCase();
  return LOCAL_HOSTS.has(h) || h.startsWith('/') || h.startsWith('%2f');
}

/**
 * The URL's settings win over the config's, one by one. Without a mode: verify-full for a
 * host that is not local, or when a CA or client certificate is given; else no TLS (a local
 * server, as before TLS settings existed).
 */
export function effectiveTls(fromUrl: TlsSettings, fromConfig: TlsSettings | undefined, local: boolean): EffectiveTls {
  const merged: TlsSettings = { ...fromConfig };
  for (const k of ['mode', 'ca', 'cert', 'key'] as const) {
    if (fromUrl[k] !== undefined) (merged as Record<string, unknown>)[k] = fromUrl[k];
  }
  const mode = merged.mode ?? (!local || merged.ca || merged.cert ? 'verify-full' : 'disable');
  return { ...merged, mode, local };
}

/** Node's TLS options for a mode; undefined for no TLS. */
export function nodeTlsOptions(tls: EffectiveTls): ConnectionOptions | undefined {
  if (tls.mode === 'disable') return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: tls.mode !== 'require' };
  if (tls.ca) options.ca = tls.ca;
  if (tls.cert) options.cert = tls.cert;
  if (tls.key) options.key = tls.key;
  // verify-ca: the chain is checked, the host name is not.
  if (tls.mode === 'verify-ca' || tls.mode === 'require') options.checkServerIdentity = () => undefined;
  return options;
}

/**
 * The doctor's TLS finding, from what the server says of the session (`inUse`: protocol and
 * cipher; undefined when the session is not encrypted) and what the client was told to check.
 */
export function tlsFinding(inUse: { version: string; cipher: string } | undefined, tls: EffectiveTls): SourceFinding {
  const setMode = "give the source tls: { mode: verify-full, caFile: <CA bundle> } (or the URL's sslmode=verify-full&sslrootcert=<file>)";
  if (!inUse) {
    if (tls.local) return { status: 'ok', topic: 'tls', text: 'no TLS: the server is on this machine (sslmode verify-full or require would use it anyway)' };
    return {
      status: 'warn',
      topic: 'tls',
      text: `no TLS to a server on the network (sslmode disable): the password and every row cross it in clear; ${setMode}, unless the network is private`,
    };
  }
  const how = `TLS in use (${inUse.version}, ${inUse.cipher})`;
  switch (tls.mode) {
    case 'verify-full':
      return { status: 'ok', topic: 'tls', text: `${how}; the server's certificate is verified: signed by a trusted CA and issued to the host connected to (verify-full)` };
    case 'verify-ca':
      return { status: 'ok', topic: 'tls', text: `${how}; the server's certificate is signed by a trusted CA; its host name is not checked (verify-ca; verify-full also checks it)` };
    default:
      return {
        status: 'warn',
        topic: 'tls',
        text: `${how}, but the server's certificate is not verified (sslmode require): anyone on the network path could pose as the server; ${setMode}`,
      };
  }
}
