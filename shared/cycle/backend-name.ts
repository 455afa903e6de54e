import type { BackendConfig } from '../config/schema';

/** A backend's display name: configured, else the host of its status URL or TLS target. */
export function backendName(backend: BackendConfig): string {
  if (backend.name) return backend.name;
  if (backend.statusUrl) return new URL(backend.statusUrl).host;
  return backend.tls?.target ?? 'backend';
}
