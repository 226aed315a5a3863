// DNS rebinding: a web page on evil.example can make its own name resolve to 127.0.0.1 and then
// read a loopback-only collector as "same origin". Its requests still carry `Host: evil.example`,
// so a collector bound to loopback answers only requests addressed to a loopback name and its port.

/** Whether `host` is a loopback interface name (what binding to it means: only this machine). */
export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host === '[::1]';
}

/** The Host header values a loopback-bound server accepts (lower case). */
export function loopbackHostHeaders(port: number): ReadonlySet<string> {
  const names = ['localhost', '127.0.0.1', '[::1]'];
  const out = new Set(names.map((n) => `${n}:${port}`));
  if (port === 80) for (const n of names) out.add(n); // a default port may be left out
  return out;
}

export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  return header !== undefined && allowed.has(header.trim().toLowerCase());
}
