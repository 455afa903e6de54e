import { probeTls, type TlsFinding } from '../backends/tls-probe';
import { getVia } from './http-client';

export interface TlsExperimentResult {
  /** The request through the load balancer. */
  status: number | null;
  /** What the backend says its side of the connection was (`X-Backend-TLS`), when it says. */
  backendLeg: string | null;
  /** A direct handshake with the backend: protocol, cipher, certificate. */
  backend: TlsFinding;
  error: string | null;
}

/**
 * The field notes' TLS question: does a request through the load balancer reach
 * a backend with a self-signed certificate, and is that leg encrypted? The
 * request's success answers the first; the backend's own report of the
 * connection (an `X-Backend-TLS` response header) and a handshake with the
 * backend answer the second.
 */
export async function tlsExperiment(o: {
  ip: string;
  port: number;
  host: string;
  backend: string;
  servername?: string;
}): Promise<TlsExperimentResult> {
  const backend = await probeTls(o.backend, { servername: o.servername });
  try {
    const res = await getVia(o.ip, o.port, o.host, '/elbscope-tls');
    const leg = res.headers['x-backend-tls'];
    return {
      status: res.status,
      backendLeg: typeof leg === 'string' ? leg : null,
      backend,
      error: res.status >= 400 ? `HTTP ${res.status} through the load balancer` : null,
    };
  } catch (err) {
    return {
      status: null,
      backendLeg: null,
      backend,
      error: `request through the load balancer failed: ${(err as Error).message}`,
    };
  }
}
