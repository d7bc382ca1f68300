import fs from 'node:fs';
import type { TlsMode, TlsSettings } from './tls';

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
