/**
 * TLS to Temporal, as with Temporal Cloud (mTLS or an API key) or a TLS-terminating proxy
 * in front of a self-hosted cluster. The dev server speaks only plain gRPC, so a proxy sits
 * in front of the real test server: a TLS terminator that demands a client certificate, or
 * an HTTP/2 proxy that demands `authorization: Bearer <key>` as Temporal Cloud does. The
 * worker and the CLI connect through them with the secrets from the environment, as the
 * CDK app injects them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createSmallTables } from '../helpers/source-tables';
import { TEMPORAL_ADDRESS } from '../helpers/env';
import { bqCount, mysqlSource, runCli, startWorker, testConfig, writeConfig } from '../helpers/harness';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-mtls-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, a server certificate for localhost, and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bqsync test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const [name, cn, ext] of [
    ['server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'bqsync-worker', 'extendedKeyUsage=clientAuth'],
  ]) {
    fs.writeFileSync(file(`${name}.ext`), ext + '\n');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
}

let proxy: tls.Server;
let proxyPort = 0;
const clientSubjects: string[] = [];

beforeAll(async () => {
  makeCertificates();
  const [host, port] = TEMPORAL_ADDRESS.split(':');
  proxy = tls.createServer(
    {
      key: fs.readFileSync(file('server.key')),
      cert: fs.readFileSync(file('server.pem')),
      ca: fs.readFileSync(file('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      clientSubjects.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
});

function config(tlsSettings: object): string {
  const c = testConfig('it-mtls', { shop: mysqlSource('it_mtls_shop', { tables: ['x_tls_1'] }) }, { mtls: { sources: ['shop'] } }) as {
    temporal: Record<string, unknown>;
  };
  c.temporal.address = `127.0.0.1:${proxyPort}`;
  c.temporal.tls = tlsSettings;
  return writeConfig(c);
}

test('worker and CLI connect with a client certificate and key from the environment, and a table syncs', async () => {
  await createSmallTables(['x_tls_1'], 17);
  const cfg = config({ cert: '${TEMPORAL_TLS_CERT}', key: '${TEMPORAL_TLS_KEY}', caFile: file('ca.pem'), serverName: 'localhost' });
  // As Secrets Manager often holds it: the key's newlines escaped as \n.
  const env = {
    TEMPORAL_TLS_CERT: fs.readFileSync(file('client.pem'), 'utf8'),
    TEMPORAL_TLS_KEY: fs.readFileSync(file('client.key'), 'utf8').replace(/\n/g, '\\n'),
  };
  const worker = await startWorker(cfg, env);
  try {
    const run = await runCli(['--config', cfg, 'run', 'mtls', '--wait'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await bqCount('it_mtls_shop', 'x_tls_1')).toBe(17);
  } finally {
    await worker.stop();
  }
  expect(clientSubjects).toContain('bqsync-worker');
});

test('without the client certificate the connection is refused, and doctor says where to look', async () => {
  const result = await runCli(['--config', config({ caFile: file('ca.pem'), serverName: 'localhost' }), 'doctor']);
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(new RegExp(`^ {2}FAIL cannot connect to 127\\.0\\.0\\.1:${proxyPort}: .*; check temporal\\.address in .*, that the server runs`, 'm'));
});

test('a certificate without its key is a config error naming the keys', async () => {
  const result = await runCli(['--config', config({ cert: '${TEMPORAL_TLS_CERT}', caFile: file('ca.pem') }), 'doctor'], { TEMPORAL_TLS_CERT: 'x' });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/FAIL cannot connect to .*temporal\.tls needs both a client certificate \(cert or certFile\) and its key \(key or keyFile\), or neither/);
});

describe('API key (Temporal Cloud)', () => {
  const API_KEY = 'tc-api-key-4b1d-secret';
  let server: http2.Http2SecureServer;
  let upstream: http2.ClientHttp2Session;
  let port = 0;
  const authorized: string[] = [];

  beforeAll(async () => {
    upstream = http2.connect(`http://${TEMPORAL_ADDRESS}`);
    upstream.on('error', () => undefined);
    server = http2.createSecureServer({ key: fs.readFileSync(file('server.key')), cert: fs.readFileSync(file('server.pem')) });
    server.on('sessionError', () => undefined);
    // Forwards each gRPC call to the dev server when it carries the key; refuses it as Temporal Cloud does otherwise.
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      const path = String(headers[':path']);
      if (headers.authorization !== `Bearer ${API_KEY}`) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' }, { endStream: true });
        return;
      }
      authorized.push(path.split('/').pop()!);
      const { ':method': method, ':authority': _a, ':scheme': _s, ...rest } = headers;
      const call = upstream.request({ ':method': method, ':path': path, ...rest });
      call.on('error', () => stream.destroy());
      let trailers: http2.OutgoingHttpHeaders = {};
      call.on('response', (h) => {
        // The caller may be gone already (a worker shutting down cancels its long polls).
        if (stream.destroyed || stream.closed) return;
        // A trailers-only response (an error status) ends the stream with its headers.
        if (h['grpc-status'] !== undefined) stream.respond(h, { endStream: true });
        else stream.respond(h, { waitForTrailers: true });
      });
      call.on('trailers', (t) => (trailers = t));
      stream.on('wantTrailers', () => {
        if (!stream.destroyed) stream.sendTrailers(trailers);
      });
      stream.on('close', () => call.close());
      stream.pipe(call);
      call.pipe(stream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    upstream.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const apiKeyConfig = () => {
    const c = testConfig('it-apikey', { shop: mysqlSource('it_apikey_shop', { tables: ['x_tls_2'] }) }, { apikey: { sources: ['shop'] } }) as {
      temporal: Record<string, unknown>;
    };
    c.temporal.address = `127.0.0.1:${port}`;
    c.temporal.apiKey = '${TEMPORAL_API_KEY}';
    c.temporal.tls = { caFile: file('ca.pem'), serverName: 'localhost' };
    return writeConfig(c);
  };

  test('the worker and the CLI send the key on every call, over TLS, and a table syncs', async () => {
    await createSmallTables(['x_tls_2'], 9);
    const cfg = apiKeyConfig();
    const env = { TEMPORAL_API_KEY: API_KEY };
    const worker = await startWorker(cfg, env);
    try {
      const run = await runCli(['--config', cfg, 'run', 'apikey', '--wait'], env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(await bqCount('it_apikey_shop', 'x_tls_2')).toBe(9);
    } finally {
      await worker.stop();
    }
    // The worker's polls and completions, and the CLI's start, all carried the key.
    expect(authorized).toEqual(expect.arrayContaining(['PollWorkflowTaskQueue', 'PollActivityTaskQueue', 'RespondActivityTaskCompleted', 'StartWorkflowExecution']));
    expect(worker.output()).not.toContain(API_KEY);
  });

  test('a wrong key: doctor says the server refused it', async () => {
    const result = await runCli(['--config', apiKeyConfig(), 'doctor'], { TEMPORAL_API_KEY: 'wrong-key' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}FAIL .*Request unauthorized.*; check the API key \(temporal\.apiKey\) or the client certificate \(temporal\.tls\)$/m);
    expect(result.stdout).not.toContain('wrong-key');
  });
});
