import net from 'node:net';
import { Transform } from 'node:stream';

/**
 * A TCP proxy in front of a local service, that a test can take down and bring back:
 * `down()` stops listening (new connections are refused) and destroys the open ones, as a
 * network outage does; `up()` listens again on the same port. `slow(bytesPerSecond)` holds
 * what clients send to that rate, as a thin link does; `slow(undefined)` lifts it;
 * `slowReplies` does the same to what the service sends back.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly clients = new Set<net.Socket>();
  /** Connections accepted, and open connections cut by `down()`. */
  accepted = 0;
  cut = 0;
  /** Bytes per second from clients to the service; undefined: as fast as it goes. */
  private rate?: number;
  /** Bytes per second from the service to clients; undefined: as fast as it goes. */
  private replyRate?: number;
  /** The most bytes one connection passed while slowed: at the rate, it was busy at least that long. */
  mostSlowedBytes = 0;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(port: number, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(port, targetPort);
    await proxy.up();
    return proxy;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  up(): Promise<void> {
    const server = net.createServer((client) => {
      this.accepted++;
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        // A reset on one side closes the other; nothing to report.
        s.on('error', () => undefined);
      }
      client.pipe(this.throttle(() => this.rate)).pipe(upstream).on('error', () => client.destroy());
      upstream.pipe(this.throttle(() => this.replyRate, false)).pipe(client).on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  slow(bytesPerSecond: number | undefined): void {
    this.rate = bytesPerSecond;
  }

  slowReplies(bytesPerSecond: number | undefined): void {
    this.replyRate = bytesPerSecond;
  }

  /** Passes each chunk on once the bytes before it have had their time at the current rate. */
  private throttle(currentRate: () => number | undefined, counted = true): Transform {
    let freeAt = 0;
    let slowed = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        const rate = currentRate();
        if (!rate) return done(null, chunk);
        slowed += chunk.length;
        if (counted) this.mostSlowedBytes = Math.max(this.mostSlowedBytes, slowed);
        const now = Date.now();
        freeAt = Math.max(freeAt, now) + (chunk.length / rate) * 1000;
        setTimeout(() => done(null, chunk), freeAt - now);
      },
    });
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    this.cut += [...this.clients].filter((c) => !c.destroyed).length;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.clients.clear();
    await closed;
  }
}
