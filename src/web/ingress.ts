/**
 * Home Assistant ingress: the Supervisor proxies the dashboard under a per-session prefix
 * (`/api/hassio_ingress/<token>/`) and says which one in `X-Ingress-Path`. The dashboard's
 * URLs are all relative, so the page only needs a `<base href>` when it is reached without
 * its trailing slash. Only the configured proxy address is trusted with that header.
 */

export interface IngressOptions {
  readonly enabled: boolean;
  /** The proxy's address (Home Assistant's Supervisor: 172.30.32.2). */
  readonly trustedProxy: string;
}

/** The address a socket reports, without the IPv4-mapped IPv6 prefix ("::ffff:1.2.3.4"). */
export function plainAddress(address: string | undefined): string {
  if (!address) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** True when the request came straight from the configured ingress proxy. */
export function fromTrustedProxy(
  ingress: IngressOptions | undefined,
  remoteAddress: string | undefined,
): boolean {
  return ingress?.enabled === true && plainAddress(remoteAddress) === plainAddress(ingress.trustedProxy);
}

// Path segments of URL-safe characters only: the value ends up inside an HTML attribute.
const INGRESS_PATH = /^(\/[A-Za-z0-9._~-]+)+\/?$/;

/** The prefix from an `X-Ingress-Path` header, without a trailing slash; undefined if absent or malformed. */
export function ingressPathOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== "string" || header.length > 512 || !INGRESS_PATH.test(header)) return undefined;
  return header.endsWith("/") ? header.slice(0, -1) : header;
}

/** The page with `<base href="<prefix>/">` as the first element of its head. */
export function withBaseHref(html: string, prefix: string): string {
  return html.replace(/<head>/i, `<head>\n  <base href="${prefix}/">`);
}
