/** `HOST:PORT` endpoints for the recorder. IPv6 hosts are written in brackets: `[::1]:4444`. */

export interface Endpoint {
  host: string;
  port: number;
}

export function parseEndpoint(text: string, what: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new Error(`${what}: "${text}" is not HOST:PORT (for example 127.0.0.1:4444)`);
  return { host: m[1] ?? m[2], port };
}

export function formatEndpoint(e: { host?: string; address?: string; port?: number }): string {
  const host = e.host ?? e.address ?? '?';
  return `${host.includes(':') ? `[${host}]` : host}:${e.port ?? '?'}`;
}
