// A TCP front on a port of its own that passes connections through to `target`, or drops them
// while `target` is undefined (the client sees a network error, as when nothing listens). Tests use
// it for a server that goes away and comes back: the server restarts on a fresh port 0 behind the
// front, so nobody closes a port and listens on it again (another process may have taken it).
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpFront {
  readonly port: number;
  /** where connections go; undefined: they are dropped */
  target: number | undefined;
  close(): Promise<void>;
}

export async function startTcpFront(target?: number): Promise<TcpFront> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    if (front.target === undefined) return void client.destroy();
    const upstream = connect(front.target, '127.0.0.1');
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const front: TcpFront = {
    port: (server.address() as AddressInfo).port,
    target,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return front;
}
