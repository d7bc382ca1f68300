/**
 * CPU seconds, read from /proc (the database runs on this host): of this process and its
 * main thread, and of the database server's side of this process's own connections (a
 * MariaDB connection's thread, a PostgreSQL backend), matched by the connections' client
 * ports, so that other clients of the same server are not counted.
 */
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node runs on

/** utime + stime of a /proc/…/stat file, in seconds; 0 when the process or thread has gone. */
export function procCpuSeconds(statFile: string): number {
  let text: string;
  try {
    text = fs.readFileSync(statFile, 'utf8');
  } catch {
    return 0;
  }
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 3 of stat(5) is fields[0]: utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** This process: all its threads (process.cpuUsage), and its main thread alone. */
export function selfCpuSeconds(): { process: number; mainThread: number } {
  const u = process.cpuUsage();
  return { process: (u.user + u.system) / 1e6, mainThread: procCpuSeconds(`/proc/self/task/${process.pid}/stat`) };
}

/** Local TCP ports of this process's open sockets (from /proc/self/fd and /proc/net/tcp*). */
export function ownTcpPorts(): Set<number> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed since the listing
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** The pid of the running MariaDB / MySQL server, found by its command name. */
export function mysqldPid(): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return Number(entry);
    } catch {
      // gone since the listing
    }
  }
  return undefined;
}

/** The server's CPU for a set of /proc stat files, from when it was made to when `elapsed` is called. */
export class ServerCpu {
  private readonly start: number;
  private readonly wholeStart: number;

  constructor(
    /** The stat files of the threads or processes serving this process's connections. */
    private readonly statFiles: string[],
    /** The whole server process's stat file, where one process serves every connection (MariaDB). */
    private readonly wholeServer?: string,
  ) {
    this.start = this.sum();
    this.wholeStart = wholeServer ? procCpuSeconds(wholeServer) : 0;
  }

  private sum(): number {
    return this.statFiles.reduce((s, f) => s + procCpuSeconds(f), 0);
  }

  /** Seconds since construction: of this process's connections, and of the whole server (MariaDB). */
  elapsed(): { connections: number; wholeServer?: number } {
    return {
      connections: this.sum() - this.start,
      ...(this.wholeServer && { wholeServer: procCpuSeconds(this.wholeServer) - this.wholeStart }),
    };
  }
}

/** Client port of a MariaDB PROCESSLIST host, `127.0.0.1:34808`; undefined for a socket. */
const portOfHost = (host: string): number | undefined => {
  const m = /:(\d+)$/.exec(host);
  return m ? Number(m[1]) : undefined;
};

/** What the monitor needs to ask the server: rows of a catalog query. */
export type CatalogQuery = (sql: string) => Promise<Record<string, unknown>[]>;

/**
 * Starts measuring MariaDB's CPU for this process's connections (except the monitor's own):
 * each connection's OS thread (PROCESSLIST.TID, MariaDB 10.5+), and the whole mysqld.
 */
export async function mariadbServerCpu(monitor: CatalogQuery): Promise<ServerCpu> {
  const pid = mysqldPid();
  if (pid === undefined) throw new Error('no mariadbd or mysqld process on this host: the server CPU cannot be read');
  const mine = ownTcpPorts();
  const rows = await monitor('SELECT ID, TID, HOST FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()');
  const threads = rows.filter((r) => mine.has(portOfHost(String(r.HOST)) ?? -1)).map((r) => `/proc/${pid}/task/${r.TID}/stat`);
  return new ServerCpu(threads, `/proc/${pid}/stat`);
}

/** Starts measuring PostgreSQL's CPU for this process's connections (except the monitor's own): their backends. */
export async function postgresServerCpu(monitor: CatalogQuery): Promise<ServerCpu> {
  const mine = ownTcpPorts();
  const rows = await monitor('SELECT pid, client_port FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND client_port IS NOT NULL');
  const backends = rows.filter((r) => mine.has(Number(r.client_port))).map((r) => `/proc/${r.pid}/stat`);
  return new ServerCpu(backends);
}
