// Loopback forwarders that add a network round trip to a lab server's answers.
//
// Why: on loopback every lookup costs only CPU, and on a 2-core machine six status
// pages, the EC2 API and the monitor compete for the same two cores, so "the cycle
// takes as long as its slowest lookup" cannot show. In AWS a lookup mostly waits
// on the network. These forwarders hold each answer for `delayMs` (one round trip
// per request and answer; TCP handshakes are not delayed) so a benchmark can
// measure the cycle where waiting, not CPU, dominates — for elbscope and for the
// manual method alike.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';

export interface Forwarder {
  /** `127.0.0.1:PORT` to use instead of the target. */
  address: string;
  port: number;
  close: () => Promise<void>;
}

/** A TCP forwarder to `targetPort` on 127.0.0.1 whose answers arrive `delayMs` late. */
export async function delayTcp(targetPort: number, delayMs: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    // Equal delays keep the chunks in order: timers of the same duration fire in the order they were set.
    upstream.on('data', (chunk) => setTimeout(() => client.write(chunk), delayMs));
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP (DNS) forwarder to `targetPort` on 127.0.0.1 whose answers arrive `delayMs` late. */
export async function delayUdp(targetPort: number, delayMs: number): Promise<Forwarder> {
  const front = createSocket('udp4');
  // One upstream socket per client address, so each answer finds its way back.
  const upstreams = new Map<string, UdpSocket>();
  front.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      const socket = createSocket('udp4');
      socket.on('message', (answer) => setTimeout(() => front.send(answer, from.port, from.address), delayMs));
      upstreams.set(key, (upstream = socket));
    }
    upstream.send(msg, targetPort, '127.0.0.1');
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  const port = front.address().port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of upstreams.values()) s.close();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
