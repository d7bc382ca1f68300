import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsMode, TlsSettings } from '../config/source-tls';
import type { SourceFinding } from './driver';

export type { TlsMode, TlsSettings };

/**
 * How a source connection uses TLS, in PostgreSQL's words for both engines:
 * - disable: no TLS (the password and the rows cross the network in clear);
 * - require: TLS, the server's certificate not checked (encrypted, but anyone on the path
 *   can pose as the server);
 * - verify-ca: TLS, the certificate signed by a trusted CA (any host name);
 * - verify-full: TLS, a trusted certificate issued to the host name connected to.
 */
export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const satisfies readonly TlsMode[];

/** What a connection does, once URL, config and defaults are combined. */
export interface EffectiveTls extends TlsSettings {
  mode: TlsMode;
  /** The host is this machine (loopback or a Unix socket). */
  local: boolean;
  /** Mode chosen by the URL or the config, not by default. */
  explicit: boolean;
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
  const explicit = merged.mode !== undefined;
  const mode = merged.mode ?? (!local || merged.ca || merged.cert ? 'verify-full' : 'disable');
  return { ...merged, mode, local, explicit };
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
export type TlsFailure = 'untrusted-certificate' | 'wrong-host' | 'no-tls-at-server' | 'client-certificate';

export function tlsFailure(err: unknown): TlsFailure | undefined {
  // A driver that renames TLS errors keeps Node's code in tlsCode (sources/mysql/tls.ts).
  const e = err as { code?: unknown; tlsCode?: unknown } | undefined;
  const code = String(e?.tlsCode ?? e?.code ?? '');
  const message = String((err as Error)?.message ?? '');
  if (code === WRONG_HOST_CODE) return 'wrong-host';
  if (UNTRUSTED_CERT_CODES.has(code)) return 'untrusted-certificate';
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || /server does not support SSL|does not support secure connection/i.test(message)) return 'no-tls-at-server';
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
    case 'client-certificate':
      return `the client certificate or key cannot be used; check that cert and key (certFile, keyFile) in ${where} are PEM and belong together`;
  }
}

/** TLS settings in a URL that cannot be used as written: a person must change the URL. */
export class TlsSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSettingsError';
  }
}

/** How an engine spells TLS settings in its URLs' query parameters. */
export interface UrlTlsSpelling {
  /** Parameters holding the mode, each with its words (lower case) and the mode each means. */
  mode: Record<string, Record<string, TlsMode>>;
  /** Parameters naming a PEM file: CA bundle, client certificate, client key. */
  caFile: string[];
  certFile: string[];
  keyFile: string[];
  /** Parameters the engine's own driver reads another way, refused with this advice. */
  refused: Record<string, string>;
  /** Query parameters that name the host or a Unix socket instead of the URL's host. */
  hostParams: string[];
}

/**
 * Takes the TLS parameters out of a connection URL, so that the engine's driver cannot read
 * them its own way, and reads the files they name. Returns the URL without them (the same
 * text when it had none), the settings, and the host connected to.
 */
export function tlsFromUrl(url: string, spelling: UrlTlsSpelling): { url: string; settings: TlsSettings; host: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, settings: {}, host: undefined }; // the driver says what is wrong with it
  }
  const params = parsed.searchParams;
  const settings: TlsSettings = {};
  let changed = false;
  const take = (name: string) => {
    const value = params.get(name);
    if (value !== null) {
      params.delete(name);
      changed = true;
    }
    return value ?? undefined;
  };
  for (const [name, advice] of Object.entries(spelling.refused)) {
    if (params.has(name)) throw new TlsSettingsError(`the URL's ${name}= parameter is not used by bqsync; ${advice}`);
  }
  for (const [name, words] of Object.entries(spelling.mode)) {
    const value = take(name);
    if (value === undefined) continue;
    const mode = Object.hasOwn(words, value.toLowerCase()) ? words[value.toLowerCase()] : undefined;
    if (!mode) {
      const shown = /^[\w-]{1,24}$/.test(value) ? ` ${value}` : '';
      throw new TlsSettingsError(
        `the URL's ${name}=${shown} is not a mode bqsync uses; write one of ${Object.keys(words).join(', ')} ` +
          '(a mode that falls back to no TLS, such as prefer, would hide a missing certificate)',
      );
    }
    settings.mode = mode;
  }
  const readPem = (names: string[]) => {
    let text: string | undefined;
    for (const name of names) {
      const file = take(name);
      // libpq's sslrootcert=system: the CAs this machine trusts, as when none is given.
      if (file === undefined || file === 'system') continue;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new TlsSettingsError(`the URL's ${name}= names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): ${file}`);
      }
    }
    return text;
  };
  settings.ca = readPem(spelling.caFile);
  settings.cert = readPem(spelling.certFile);
  settings.key = readPem(spelling.keyFile);
  for (const k of ['ca', 'cert', 'key'] as const) if (settings[k] === undefined) delete settings[k];
  const hostParam = spelling.hostParams.map((p) => params.get(p)).find((v) => v !== null);
  const urlHost = parsed.hostname ? decodeURIComponent(parsed.hostname) : '';
  return { url: changed ? parsed.toString() : url, settings, host: hostParam ?? urlHost };
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
