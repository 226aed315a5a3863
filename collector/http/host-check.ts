// DNS rebinding: a web page on evil.example can make its own name resolve to 127.0.0.1 and then
// read a loopback-only collector as "same origin". Its requests still carry `Host: evil.example`,
// so a collector bound to loopback answers only requests addressed to a loopback name. The port is
// not checked (as Vite's dev server does not): a port forward or a proxy in front changes it, and
// an attacker's page cannot choose the name.

/** Whether `host` is a loopback interface name (what binding to it means: only this machine). */
export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host === '[::1]';
}

/** The host names (Host header without its port, lower case) a loopback-bound server accepts. */
export const LOOPBACK_HOST_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return false;
  const h = header.trim().toLowerCase();
  // "name:port", "name", "[::1]:port", "[::1]"
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]!;
  const rest = h.slice(name.length);
  return allowed.has(name) && (rest === '' || /^:\d{1,5}$/.test(rest));
}
