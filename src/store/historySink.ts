/**
 * HistorySink: stores bus readings and alerts in a HistoryStore. Readings are batched and
 * written once per flush interval in one transaction (thousands of devices → one fsync a
 * second, not thousands). A broken or locked database never takes the bridge down: the
 * error is logged once per kind, kept in `error` for the dashboard, and writes retry on
 * the next flush with a bounded backlog.
 */
import type { Alert, Bus, Sink } from "../model/bus.js";
import type { Reading } from "../model/reading.js";
import { HistoryError, HistoryStore, isHistoryError } from "./history.js";

export interface HistoryLogger {
  error(message: string): void;
  info(message: string): void;
}

export interface HistorySinkOptions {
  readonly bus: Bus;
  readonly path: string;
  readonly retentionDays?: number;
  /** Batch window, ms (default 1000). */
  readonly flushMs?: number;
  /** How often old rows are pruned, ms (default 1 h). */
  readonly pruneMs?: number;
  /** Readings kept while the database refuses writes; oldest are dropped beyond (default 10000). */
  readonly maxBacklog?: number;
  readonly busyTimeoutMs?: number;
  readonly logger?: HistoryLogger;
}

export class HistorySink implements Sink {
  readonly name = "history";
  /** Open store, or undefined when opening failed (see `error`). */
  store: HistoryStore | undefined;
  /** The last database error, cleared by the next successful write. */
  error: HistoryError | undefined;
  private readings: Reading[] = [];
  private alerts: Alert[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private dropped = 0;
  private readonly onReading = (r: Reading) => {
    this.readings.push(r);
    const max = this.options.maxBacklog ?? 10_000;
    if (this.readings.length > max) {
      this.dropped += this.readings.length - max;
      this.readings.splice(0, this.readings.length - max);
    }
  };
  private readonly onAlert = (a: Alert) => {
    this.alerts.push(a);
  };

  constructor(private readonly options: HistorySinkOptions) {}

  async start(): Promise<void> {
    try {
      this.store = HistoryStore.open({
        path: this.options.path,
        ...(this.options.retentionDays === undefined ? {} : { retentionDays: this.options.retentionDays }),
        ...(this.options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: this.options.busyTimeoutMs }),
      });
    } catch (e) {
      this.fail(e);
      return; // the bridge runs on without history
    }
    this.prune();
    const { bus } = this.options;
    bus.on("reading", this.onReading);
    bus.on("alert", this.onAlert);
    this.flushTimer = setInterval(() => this.flush(), this.options.flushMs ?? 1000);
    this.pruneTimer = setInterval(() => this.prune(), this.options.pruneMs ?? 3_600_000);
    this.flushTimer.unref();
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    const { bus } = this.options;
    bus.off("reading", this.onReading);
    bus.off("alert", this.onAlert);
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    this.flushTimer = undefined;
    this.pruneTimer = undefined;
    this.flush();
    try {
      this.store?.checkpoint();
    } catch {
      // a locked WAL is merged by the next open; nothing is lost
    }
    this.store?.close();
    this.store = undefined;
  }

  /** Writes what is buffered now. Never throws. */
  flush(): void {
    const store = this.store;
    if (!store || (this.readings.length === 0 && this.alerts.length === 0)) return;
    try {
      if (this.alerts.length > 0) {
        store.insertAlerts(this.alerts);
        this.alerts = [];
      }
      if (this.readings.length > 0) {
        store.insert(this.readings);
        this.readings = [];
      }
      if (this.error) this.options.logger?.info(`history: writing again to ${store.path}`);
      this.error = undefined;
      if (this.dropped > 0) {
        this.options.logger?.error(
          `history: dropped ${this.dropped} readings while the database was unavailable`,
        );
        this.dropped = 0;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private prune(): void {
    try {
      const n = this.store?.prune();
      if (n && n.readings + n.alerts > 0)
        this.options.logger?.info(
          `history: pruned ${n.readings} readings and ${n.alerts} alerts past retention`,
        );
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    const err = isHistoryError(e)
      ? e
      : new HistoryError("Io", `history: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    // Log a failure once per kind, not once per second while a lock is held.
    if (this.error?.code !== err.code) this.options.logger?.error(err.message);
    this.error = err;
  }
}
