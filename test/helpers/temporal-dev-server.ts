import { Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { searchAttributeNames } from '../../common/search-attributes';
import { freePort } from './free-port';

// Where scripts/install-tools.sh puts the Temporal CLI when it was not on PATH.
const TOOLS_BIN = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'bqsync', 'bin');

/** The Temporal CLI, looked up as scripts/lib.sh does: the one it built first, then PATH. */
export function temporalExecutable(): string {
  for (const dir of [TOOLS_BIN, ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean)]) {
    const file = path.join(dir, 'temporal');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`the Temporal CLI is neither on PATH nor in ${TOOLS_BIN}; run scripts/install-tools.sh`);
}

/**
 * A Temporal dev server of a test's own, on free ports, keeping its state in a SQLite file,
 * so that the test can kill it and start it again on the same state.
 */
export class TemporalDevServer {
  private process?: ChildProcess;
  private exited?: Promise<NodeJS.Signals | number | null>;
  log = '';

  private constructor(
    readonly port: number,
    readonly uiPort: number,
    private readonly httpPort: number,
    private readonly metricsPort: number,
    readonly dbFile: string,
  ) {}

  static async create(dbFile: string): Promise<TemporalDevServer> {
    return new TemporalDevServer(await freePort(), await freePort(), await freePort(), await freePort(), dbFile);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.exitCode === null && this.process.signalCode === null ? this.process.pid : undefined;
  }

  /** Starts the server and waits until it answers. */
  async start(timeoutMs = 90_000): Promise<void> {
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--ui-port', String(this.uiPort)];
    args.push('--http-port', String(this.httpPort), '--metrics-port', String(this.metricsPort));
    args.push('--db-filename', this.dbFile, '--log-level', 'warn', '--namespace', 'default');
    for (const name of searchAttributeNames) args.push('--search-attribute', `${name}=Keyword`);
    const child = spawn('temporal', args, {
      env: { ...process.env, PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the Temporal dev server exited at start:\n${this.log}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 2000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch {
        if (Date.now() > end) throw new Error(`the Temporal dev server did not answer within ${timeoutMs / 1000} s:\n${this.log}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Sends the signal and returns how the process ended (the signal's name, or its exit code). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<NodeJS.Signals | number | null> {
    if (!this.process || !this.exited) return null;
    if (this.pid !== undefined) this.process.kill(signal);
    return this.exited;
  }
}
