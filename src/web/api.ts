/**
 * The read-only JSON/CSV/SSE/metrics routes of the web server. Everything served comes
 * from the bus (LiveState), the history store or the metrics registry: the config (with
 * its passwords and tokens) is never reachable from here.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEFAULT_REST_CURRENT_A } from "../battery/config.js";
import { DEVICE_ID_PATTERN } from "../config/schema.js";
import type { HistoryError, HistoryStore } from "../store/history.js";
import { DAY_MS, HOUR_MS } from "../store/historyDrift.js";
import type { Metrics } from "../metrics/metrics.js";
import { dashboardValues } from "../values/dashboard.js";
import type { LiveEvent, LiveState } from "./live.js";

/** Where the API finds history: the HistorySink fits (store undefined while unavailable). */
export interface HistorySource {
  readonly store: HistoryStore | undefined;
  readonly error?: HistoryError | undefined;
}

export interface ApiOptions {
  readonly live: LiveState;
  readonly history?: HistorySource | undefined;
  readonly metrics?: Metrics | undefined;
  /** Keep-alive comment interval for SSE, ms (default 15000). */
  readonly heartbeatMs?: number;
  /** The hosted VESC Hub's state for `/api/hub` (absent: `{ enabled: false }`). */
  readonly hub?: (() => unknown) | undefined;
  /** Concurrent `/api/events` streams; more are answered 503 (default 64). */
  readonly maxStreams?: number;
  /**
   * Bytes a stream may have waiting for a client that does not read, beyond its first
   * snapshot, before it is dropped (default 1 MiB). EventSource reconnects and gets a snapshot.
   */
  readonly streamMaxBufferedBytes?: number;
  /** A device's rest current for the drift chart, A (its battery config); absent: 0.5 A. */
  readonly restCurrentA?: ((deviceId: string) => number | undefined) | undefined;
}

/** The drift chart's longest range, days: the work is bounded either way, the chart is not. */
const MAX_DRIFT_DAYS = 90;
/** Hourly buckets up to this many days (7 d = 168 points); daily beyond. */
const MAX_HOURLY_DAYS = 14;

/** Parsed query string: a key given twice arrives as an array. */
type Query = Record<string, string | string[] | undefined>;

class BadRequest extends Error {}

/** One query parameter; a repeated one is a mistake, not a list. */
function param(q: Query, key: string): string | undefined {
  const v = q[key];
  if (Array.isArray(v)) throw new BadRequest(`${key}: given more than once`);
  return v;
}

/** The latest instant a JavaScript Date can hold (year 275760). */
const MAX_TIME_MS = 8.64e15;

/** ms since epoch from "1712345678901" or an ISO date; `fallback` when absent. */
function time(q: Query, key: string, fallback: number): number {
  const raw = param(q, key);
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n) || n < 0 || n > MAX_TIME_MS)
    throw new BadRequest(
      `${key}: expected ms since epoch or an ISO date from 1970 on, got "${raw.slice(0, 40)}"`,
    );
  return n;
}

/** A device id as configured (a-z, 0-9, _ or -): it ends up in a file name and a header. */
function checkedDeviceId(id: string): string {
  if (id.length > 128 || !DEVICE_ID_PATTERN.test(id))
    throw new BadRequest("device: expected a device id of a-z, 0-9, _ or -");
  return id;
}

function deviceOf(q: Query, required: boolean): string | undefined {
  const id = param(q, "device");
  if (id === undefined || id === "") {
    if (required) throw new BadRequest("device: required");
    return undefined;
  }
  return checkedDeviceId(id);
}

/** An integer parameter in [min, max]; `fallback` when absent. */
function integer(q: Query, key: string, fallback: number, min: number, max: number): number {
  const raw = param(q, key);
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BadRequest(`${key}: expected an integer ${min}–${max}`);
  return n;
}

/** The drift chart's range: `days` back from `to`, hourly or daily buckets. */
function driftRangeOf(q: Query) {
  const days = integer(q, "days", 30, 1, MAX_DRIFT_DAYS);
  const to = time(q, "to", Date.now());
  const bucket = param(q, "bucket") ?? (days <= 7 ? "hour" : "day");
  if (bucket !== "hour" && bucket !== "day") throw new BadRequest("bucket: expected hour or day");
  if (bucket === "hour" && days > MAX_HOURLY_DAYS)
    throw new BadRequest(`bucket: hourly up to ${MAX_HOURLY_DAYS} days; ask bucket=day for longer`);
  return {
    days,
    from: Math.max(0, to - days * DAY_MS + 1),
    to,
    bucketMs: bucket === "hour" ? HOUR_MS : DAY_MS,
  };
}

function rangeOf(q: Query, defaultMaxPoints: number | undefined) {
  const deviceId = deviceOf(q, true) as string;
  const to = time(q, "to", Date.now());
  const from = time(q, "from", to - 3_600_000);
  if (from > to) throw new BadRequest("from must not be after to");
  let maxPoints = defaultMaxPoints;
  const maxPointsText = param(q, "maxPoints");
  if (maxPointsText !== undefined) {
    maxPoints = Number(maxPointsText);
    if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > 100_000)
      throw new BadRequest("maxPoints: expected an integer 1–100000");
  }
  return { deviceId, from, to, ...(maxPoints === undefined ? {} : { maxPoints }) };
}

function sendError(reply: FastifyReply, status: number, error: string) {
  return reply.code(status).send({ error });
}

export function registerApi(
  app: FastifyInstance,
  options: ApiOptions,
): { closeStreams(): void; streamCount(): number } {
  const { live, history, metrics } = options;
  const streams = new Set<FastifyReply>();
  const maxStreams = options.maxStreams ?? 64;
  const maxBuffered = options.streamMaxBufferedBytes ?? 1024 * 1024;

  /** Runs a history handler with the store, or answers why there is none. */
  const withStore = async (reply: FastifyReply, fn: (store: HistoryStore) => unknown) => {
    if (!history) return sendError(reply, 404, "history is disabled");
    const store = history.store;
    if (!store) return sendError(reply, 503, history.error?.message ?? "history is not available");
    try {
      return await fn(store);
    } catch (e) {
      if (e instanceof BadRequest) return sendError(reply, 400, e.message);
      if (e instanceof Error && e.name === "HistoryError") return sendError(reply, 503, e.message);
      throw e;
    }
  };

  app.get("/api/devices", async () => ({ devices: live.snapshot(), recentAlerts: live.recentAlerts() }));

  // The value catalogue: labels, units and digits the dashboard shows (src/values/).
  const values = { values: dashboardValues() };
  app.get("/api/values", async () => values);

  app.get("/api/hub", async () => (options.hub ? options.hub() : { enabled: false }));

  app.get("/api/history", async (req: FastifyRequest<{ Querystring: Query }>, reply) =>
    withStore(reply, (store) => store.query(rangeOf(req.query, 1000))),
  );

  app.get("/api/history.csv", async (req: FastifyRequest<{ Querystring: Query }>, reply) =>
    withStore(reply, (store) => {
      const q = rangeOf(req.query, undefined);
      const lines = store.csv(q);
      // Pull the header eagerly so a database error still becomes a JSON 503, not a cut stream.
      const first = lines.next();
      const name = `${q.deviceId}-${new Date(q.from).toISOString().replace(/[:.]/g, "-")}.csv`;
      reply.header("content-type", "text/csv; charset=utf-8");
      reply.header("content-disposition", `attachment; filename="${name}"`);
      return reply.send(
        Readable.from(
          (function* () {
            if (!first.done) yield first.value;
            yield* lines;
          })(),
        ),
      );
    }),
  );

  // Each cell's deviation from the pack mean at rest, per hour or day (store/historyDrift.ts).
  app.get(
    "/api/devices/:id/cell-drift",
    async (req: FastifyRequest<{ Params: { id: string }; Querystring: Query }>, reply) =>
      withStore(reply, (store) => {
        const deviceId = checkedDeviceId(req.params.id);
        const { days, ...range } = driftRangeOf(req.query);
        const restCurrentA = options.restCurrentA?.(deviceId) ?? DEFAULT_REST_CURRENT_A;
        return { deviceId, days, ...store.cellDrift({ deviceId, ...range, restCurrentA }) };
      }),
  );

  app.get("/api/alerts", async (req: FastifyRequest<{ Querystring: Query }>, reply) =>
    withStore(reply, (store) => {
      const q = req.query;
      const deviceId = deviceOf(q, false);
      const to = time(q, "to", Date.now());
      const from = time(q, "from", to - 86_400_000);
      return { alerts: store.alerts({ ...(deviceId ? { deviceId } : {}), from, to }) };
    }),
  );

  app.get("/metrics", async (_req, reply) => {
    if (!metrics) return sendError(reply, 404, "metrics are disabled");
    reply.header("content-type", metrics.contentType);
    return metrics.text();
  });

  app.get("/api/events", (req: FastifyRequest<{ Querystring: Query }>, reply) => {
    // ?device=X: readings of X only; statuses and alerts of every device still flow.
    let only: string | undefined;
    try {
      only = deviceOf(req.query, false);
    } catch (e) {
      return sendError(reply, 400, (e as Error).message);
    }
    if (streams.size >= maxStreams) {
      reply.header("retry-after", "10");
      return sendError(
        reply,
        503,
        `too many live streams (${maxStreams}); close a dashboard or raise web.max_streams`,
      );
    }
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no", // nginx: do not buffer the stream
    });
    // The snapshot may be large (a fleet); what counts as "not reading" is what piles up after it.
    let allowance = maxBuffered;
    const send = (text: string) => {
      if (res.destroyed) return;
      res.write(text);
      // A client that stopped reading is dropped; EventSource reconnects and gets a snapshot.
      if (res.writableLength > allowance) res.destroy();
    };
    const write = (event: string, data: unknown) =>
      send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    res.write("retry: 2000\n\n");
    const snapshot = `event: snapshot\ndata: ${JSON.stringify({ devices: live.snapshot(only), recentAlerts: live.recentAlerts() })}\n\n`;
    allowance += Buffer.byteLength(snapshot);
    send(snapshot);
    const unsubscribe = live.subscribe((e: LiveEvent) => {
      if (only === undefined || e.type !== "reading" || e.data.deviceId === only) write(e.type, e.data);
    });
    const heartbeat = setInterval(() => send(": ping\n\n"), options.heartbeatMs ?? 15_000);
    streams.add(reply);
    res.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(reply);
    });
  });

  return {
    streamCount: () => streams.size,
    closeStreams() {
      for (const r of streams) r.raw.end();
      streams.clear();
    },
  };
}
