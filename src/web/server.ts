/**
 * The web server sink (fastify): dashboard, JSON/CSV API, live events and /metrics.
 * Read-only (GET only). When a token is set every data route needs it, as
 * `Authorization: Bearer <token>` or `?token=<token>` (EventSource cannot send headers).
 * Without a token only Host names a DNS-rebinding page cannot claim are served (see hostAllowed).
 * Static files are served from src/web/static in the package (tsc does not copy them).
 * `/healthz` answers without a token (container healthchecks, Home Assistant's watchdog).
 * Behind Home Assistant ingress (`ingress.enabled`) the proxy's requests skip the token and
 * every other address needs it; all dashboard URLs are relative, so any path prefix works.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { type AddressInfo, isIP } from "node:net";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance } from "fastify";
import type { Bus } from "../model/bus.js";
import type { Log } from "../model/log.js";
import type { DeviceStatus } from "../model/reading.js";
import { BusSink } from "../model/sink.js";
import type { Metrics } from "../metrics/metrics.js";
import { type HistorySource, registerApi } from "./api.js";
import { fromTrustedProxy, type IngressOptions, ingressPathOf, withBaseHref } from "./ingress.js";
import { LiveState } from "./live.js";

export interface WebServerOptions {
  readonly bus: Bus;
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 8080; 0 = any free port, see `url`). */
  readonly port?: number;
  /** Access token; null/undefined = open. */
  readonly token?: string | null;
  readonly history?: HistorySource;
  readonly metrics?: Metrics;
  readonly logger?: Partial<Log>;
  /** Current status of every configured device (the bridge's pollers), for fresh snapshots. */
  readonly statuses?: () => readonly DeviceStatus[];
  /** SSE keep-alive interval, ms. */
  readonly heartbeatMs?: number;
  /** The hosted VESC Hub's JSON snapshot for `/api/hub` (src/hub/snapshot.ts). */
  readonly hub?: () => unknown;
  /** Home Assistant ingress: which proxy address is trusted without a token. */
  readonly ingress?: IngressOptions;
  /**
   * Extra Host names served without a token ("name", ".domain" for it and its subdomains,
   * "*" for any). IP addresses, localhost, the bind host and this machine's name always are.
   */
  readonly allowedHosts?: readonly string[];
  /** Concurrent live streams (`/api/events`); more get 503 (default 64). */
  readonly maxStreams?: number;
  /** Unread bytes a live stream may pile up beyond its snapshot before it is dropped (default 1 MiB). */
  readonly streamMaxBufferedBytes?: number;
  /** A device's rest current (its battery config), for the cell drift chart; absent: 0.5 A. */
  readonly restCurrentA?: (deviceId: string) => number | undefined;
}

/** Liveness URL: no token, no data. */
export const HEALTH_PATH = "/healthz";

/** The package root: the nearest folder upwards holding our package.json (src/ at dev, dist/ installed). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "vesc2mqtt")
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("vesc2mqtt package root not found (package.json missing)");
    dir = up;
  }
}

/** Folder of the dashboard's HTML/CSS/JS. */
export function staticDir(): string {
  return join(packageRoot(), "src", "web", "static");
}

/** Folder of uPlot's browser build, wherever npm put it. */
export function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));
}

const digest = (s: string) => createHash("sha256").update(s).digest();

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** The name part of a Host header, lowercased, without port or trailing dot ("" when unparsable). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : "";
  }
  const colon = h.lastIndexOf(":");
  const name = colon >= 0 && h.indexOf(":") === colon ? h.slice(0, colon) : h;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * DNS rebinding points an attacker's name at 127.0.0.1; the browser still sends that name
 * as Host. A page cannot make the browser send an IP literal or "localhost" for its own
 * origin, so those are safe; other names must be listed (`allowed`, same forms as
 * WebServerOptions.allowedHosts). A request without Host (HTTP/1.0 tools) is no browser.
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return true;
  const name = hostName(header);
  if (name === "") return false;
  if (isIP(name) !== 0 || name === "localhost" || name.endsWith(".localhost")) return true;
  return allowed.some((a) => {
    const entry = a.toLowerCase();
    if (entry === "*") return true;
    if (entry.startsWith(".")) return name === entry.slice(1) || name.endsWith(entry);
    return name === entry;
  });
}

export class WebServer extends BusSink {
  readonly name = "web";
  private app: FastifyInstance | undefined;
  private live: LiveState | undefined;
  private closeStreams: (() => void) | undefined;
  private streamCount: (() => number) | undefined;
  private bound: AddressInfo | undefined;

  constructor(private readonly options: WebServerOptions) {
    super(options.bus, options.logger);
  }

  /** Live streams (`/api/events`) open now. */
  get streams(): number {
    return this.streamCount?.() ?? 0;
  }

  /** Base URL once started, e.g. "http://127.0.0.1:8080" (IPv6 hosts in brackets). */
  get url(): string {
    if (!this.bound) throw new Error("web server not started");
    const host = this.bound.family === "IPv6" ? `[${this.bound.address}]` : this.bound.address;
    return `http://${host}:${this.bound.port}`;
  }

  protected async onStart(): Promise<void> {
    const { token, ingress } = this.options;
    const host = this.options.host ?? "127.0.0.1";
    const app = Fastify({ logger: false });
    const live = new LiveState(this.options.statuses);
    const expected = token ? digest(token) : undefined;
    const allowedHosts = [...(this.options.allowedHosts ?? []), host, hostname(), `${hostname()}.local`];

    app.addHook("onRequest", async (req, reply) => {
      const path = req.url.split("?")[0] ?? "";
      if (path === HEALTH_PATH) return;
      // Home Assistant has authenticated the user before its proxy forwards anything.
      if (fromTrustedProxy(ingress, req.socket.remoteAddress)) return;
      if (ingress?.enabled && !expected)
        return reply
          .code(403)
          .send({ error: "only Home Assistant's ingress proxy may connect (no web token set)" });
      if (!expected) {
        // Without a token the Host name is all that keeps a rebinding page from the data.
        if (hostAllowed(req.headers.host, allowedHosts)) return;
        const name = hostName(req.headers.host ?? "").slice(0, 100);
        return reply.code(403).send({
          error: `host "${name}" is not allowed: open the dashboard by IP address or localhost, list the name in web.allowed_hosts, or set web.token`,
        });
      }
      // Assets are public code (no data); everything else needs the token when one is set.
      if (path.startsWith("/static/") || path.startsWith("/vendor/")) return;
      const header = req.headers.authorization;
      const fromQuery = (req.query as Record<string, string | string[] | undefined>).token;
      if (Array.isArray(fromQuery)) return reply.code(400).send({ error: "token: given more than once" });
      const given = header?.startsWith("Bearer ") === true ? header.slice(7) : fromQuery;
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        reply.header("www-authenticate", 'Bearer realm="vesc2mqtt"');
        return reply.code(401).send({ error: "access token required (Authorization: Bearer … or ?token=…)" });
      }
    });
    app.addHook("onSend", async (req, reply) => {
      reply.header("x-content-type-options", "nosniff");
      // The token may sit in the URL: never hand it to other sites.
      reply.header("referrer-policy", "no-referrer");
      // Home Assistant shows ingress pages in an iframe of its own (same) origin.
      const framing = fromTrustedProxy(ingress, req.socket.remoteAddress) ? "'self'" : "'none'";
      reply.header(
        "content-security-policy",
        `default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors ${framing}`,
      );
    });

    await app.register(fastifyStatic, { root: staticDir(), prefix: "/static/", index: false });
    await app.register(fastifyStatic, { root: uplotDir(), prefix: "/vendor/uplot/", decorateReply: false });
    app.get(HEALTH_PATH, async () => ({ status: "ok" }));
    app.get("/", async (req, reply) => {
      reply.type("text/html; charset=utf-8").header("cache-control", "no-cache");
      const prefix = fromTrustedProxy(ingress, req.socket.remoteAddress)
        ? ingressPathOf(req.headers["x-ingress-path"])
        : undefined;
      if (prefix === undefined) return reply.sendFile("index.html");
      // A base makes the relative URLs right even when the page is reached without its trailing slash.
      return withBaseHref(await readFile(join(staticDir(), "index.html"), "utf8"), prefix);
    });
    const api = registerApi(app, {
      live,
      history: this.options.history,
      metrics: this.options.metrics,
      hub: this.options.hub,
      restCurrentA: this.options.restCurrentA,
      ...(this.options.heartbeatMs === undefined ? {} : { heartbeatMs: this.options.heartbeatMs }),
      ...(this.options.maxStreams === undefined ? {} : { maxStreams: this.options.maxStreams }),
      ...(this.options.streamMaxBufferedBytes === undefined
        ? {}
        : { streamMaxBufferedBytes: this.options.streamMaxBufferedBytes }),
    });
    this.closeStreams = api.closeStreams;
    this.streamCount = api.streamCount;

    this.listen("reading", (r) => live.reading(r));
    this.listen("status", (s) => live.status(s));
    this.listen("alert", (a) => live.alert(a));
    try {
      await app.listen({ host, port: this.options.port ?? 8080 });
    } catch (e) {
      live.close();
      await app.close();
      throw e; // BusSink.start() removes the subscriptions
    }
    this.app = app;
    this.live = live;
    this.bound = app.server.address() as AddressInfo;
    // Under ingress without a token every address but the proxy is refused.
    if (!token && !isLoopback(host) && !ingress?.enabled)
      this.log.warn(`web: dashboard on ${host} without an access token: anyone on the network can read it`);
    this.log.info(`web: dashboard at ${this.url}/`);
  }

  protected override async onStop(): Promise<void> {
    this.live?.close();
    this.closeStreams?.();
    await this.app?.close();
    this.app = undefined;
    this.live = undefined;
    this.bound = undefined;
  }
}
