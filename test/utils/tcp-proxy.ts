import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * How a cut proxy treats connections: `reset` closes every open connection and resets each new
 * one at once (a server that is down: ECONNRESET, "Connection terminated"); `blackhole` closes the
 * open ones and then accepts new connections but never forwards a byte (a host that does not answer:
 * only the client's own timeouts end the wait).
 */
export type CutMode = 'reset' | 'blackhole';

/** A TCP proxy in front of one server, to simulate its outage without touching the real server. */
export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1); point the client's config at it. */
  readonly port: number;
  readonly host: string;
  /** Drops every open connection, and refuses (`reset`) or swallows (`blackhole`) the new ones. */
  cut(mode?: CutMode): void;
  /** Forwards new connections again. */
  restore(): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on an ephemeral port of 127.0.0.1 that forwards every connection to
 * `target.host:target.port` (node:net, both directions piped) until {@link TcpProxy.cut}.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'up' | CutMode = 'up';
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  // destroy(), not resetAndDestroy(): resetting a half-closed socket leaves its TCP handle open in
  // Node 20 (the test process would never exit).
  const dropAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'reset') return void client.resetAndDestroy();
    if (mode === 'blackhole') return void client.pause();
    const upstream = createConnection({ host: target.host, port: target.port });
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: '127.0.0.1',
    cut(cutMode: CutMode = 'reset') {
      mode = cutMode;
      dropAll();
    },
    restore() {
      if (mode === 'blackhole') dropAll(); // only swallowed connections are open then
      mode = 'up';
    },
    async close() {
      mode = 'reset';
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
