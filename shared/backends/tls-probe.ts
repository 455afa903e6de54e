import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';

/** What one TLS handshake to a backend showed. */
export interface TlsFinding {
  target: string;
  protocol: string | null;
  cipher: string | null;
  subject: string | null;
  issuer: string | null;
  sans: string[];
  selfSigned: boolean | null;
  /** Whether the chain verifies against the trusted CAs (the handshake is never refused for it). */
  authorized: boolean | null;
  authorizationError: string | null;
  validFrom: string | null;
  validTo: string | null;
  daysLeft: number | null;
  /** `AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string | null;
  /**
   * The certificate's public key, base64 DER SubjectPublicKeyInfo (what a Classic back-end authentication policy
   * lists).
   */
  publicKey: string | null;
  /** Problems found: expired, not yet valid, pin mismatch, self-signed. */
  findings: string[];
  /** Null, or one line saying why there was no handshake. */
  error: string | null;
}

export interface TlsProbeOptions {
  servername?: string;
  timeoutMs?: number;
  /** Expected SHA-256 fingerprint; a different certificate is a finding. */
  pinSha256?: string;
  /** Extra trusted CAs (PEM), for private PKI. */
  ca?: string | Buffer;
  now?: () => Date;
}

/** Split `host:port` / `[v6]:port`; port defaults to 443. Returns null when malformed. */
export function parseTarget(target: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(target);
  if (!m) return null;
  const port = m[3] === undefined ? 443 : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

function dn(fields: Record<string, string | string[]> | undefined): string | null {
  if (!fields || Object.keys(fields).length === 0) return null;
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/**
 * Handshake with a backend and describe its certificate. Verification is
 * reported, not enforced, for this one connection only (`rejectUnauthorized:
 * false` on this socket; nothing else in the process changes). Never throws.
 */
export function probeTls(target: string, options: TlsProbeOptions = {}): Promise<TlsFinding> {
  const finding: TlsFinding = {
    target,
    protocol: null,
    cipher: null,
    subject: null,
    issuer: null,
    sans: [],
    selfSigned: null,
    authorized: null,
    authorizationError: null,
    validFrom: null,
    validTo: null,
    daysLeft: null,
    fingerprint256: null,
    publicKey: null,
    findings: [],
    error: null,
  };
  const parsed = parseTarget(target);
  if (!parsed) return Promise.resolve({ ...finding, error: `${target}: not HOST:PORT` });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? (() => new Date());
  const servername = options.servername ?? (isIP(parsed.host) ? undefined : parsed.host);

  return new Promise((resolve) => {
    let settled = false;
    const done = (result: TlsFinding, socket?: TLSSocket) => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      resolve(result);
    };
    const socket = connect({
      host: parsed.host,
      port: parsed.port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    socket.setTimeout(timeoutMs, () =>
      done({ ...finding, error: `${target}: no TLS handshake within ${timeoutMs} ms` }, socket),
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ...finding, error: `${target}: ${handshakeFailure(err)}` }, socket),
    );
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      if (!cert || Object.keys(cert).length === 0) {
        done(
          { ...finding, protocol: socket.getProtocol(), error: `${target}: the server sent no certificate` },
          socket,
        );
        return;
      }
      const result: TlsFinding = {
        ...finding,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        subject: dn(cert.subject as unknown as Record<string, string>),
        issuer: dn(cert.issuer as unknown as Record<string, string>),
        sans: (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        validFrom: new Date(cert.valid_from).toISOString(),
        validTo: new Date(cert.valid_to).toISOString(),
        fingerprint256: cert.fingerprint256,
        publicKey: spkiOf(cert.raw),
      };
      // A self-signed certificate is its own issuer (Node links it to itself, or sends no issuer at all).
      const issuerCert = cert.issuerCertificate as DetailedPeerCertificate | undefined;
      result.selfSigned =
        result.authorizationError === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
        issuerCert === cert ||
        (result.subject === result.issuer &&
          (issuerCert === undefined || issuerCert.fingerprint256 === cert.fingerprint256));
      const msLeft = new Date(cert.valid_to).getTime() - now().getTime();
      result.daysLeft = Math.floor(msLeft / 86_400_000);
      if (msLeft < 0) result.findings.push(`certificate expired on ${result.validTo}`);
      if (new Date(cert.valid_from).getTime() > now().getTime())
        result.findings.push(`certificate not valid before ${result.validFrom}`);
      if (result.selfSigned)
        result.findings.push('self-signed certificate (an ELB accepts it; the backend leg is still encrypted)');
      if (options.pinSha256 && options.pinSha256.toUpperCase() !== cert.fingerprint256.toUpperCase()) {
        result.findings.push(
          `fingerprint ${cert.fingerprint256} does not match the pinned ${options.pinSha256.toUpperCase()}`,
        );
      }
      done(result, socket);
    });
  });
}

/** A certificate's public key as base64 DER SPKI; null when the certificate does not parse. */
function spkiOf(raw: Buffer | undefined): string | null {
  if (!raw) return null;
  try {
    return new X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    return null;
  }
}

function handshakeFailure(err: NodeJS.ErrnoException): string {
  const message = (typeof err.message === 'string' ? err.message : String(err.message ?? '')).split('\n')[0] ?? '';
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ECONNRESET') return 'connection reset during the TLS handshake';
  if (/wrong version number|packet length too long|http request/i.test(message)) {
    return 'not TLS: the port answered in plain text (HTTP on a TLS port?)';
  }
  if (err.code === 'ENOTFOUND') return 'host name does not resolve';
  return `TLS handshake failed (${err.code ?? message})`;
}
