import { request } from 'node:http';

/** One plain HTTP GET to an address, with the load balancer's name as Host; status, headers and timing. */
export function getVia(
  ip: string,
  port: number,
  host: string,
  path: string,
  timeoutMs = 10_000,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ip,
        port,
        path,
        headers: { host, 'user-agent': 'elbscope-experiment' },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${ip}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
