/**
 * HistorySink: stores bus readings and alerts in a HistoryStore. Readings are batched and
 * written once per flush interval in one transaction (thousands of devices → one fsync a
 * second, not thousands). A broken, locked or deleted database never takes the bridge
 * down and never stalls it: SQLite waits at most a short busy timeout, the error is logged
 * once per kind and kept in `error` for the dashboard, and writes retry on the next flush
 * with a bounded backlog (overflow drops the oldest rows, counted and logged).
 */
import { existsSync, rmSync } from "node:fs";
import type { Alert, Bus } from "../model/bus.js";
import type { Log } from "../model/log.js";
import type { Reading } from "../model/reading.js";
import { BusSink } from "../model/sink.js";
import { HistoryError, HistoryStore, isHistoryError, type PruneCounts } from "./history.js";

export interface HistorySinkOptions {
  readonly bus: Bus;
  readonly path: string;
  readonly retentionDays?: number;
  /** Batch window, ms (default 1000). */
  readonly flushMs?: number;
  /** How often old rows are pruned, ms (default 1 h). */
  readonly pruneMs?: number;
  /** Readings (and alerts) kept while the database refuses writes; oldest dropped beyond (default 10000). */
  readonly maxBacklog?: number;
  /** SQLite busy timeout per statement, ms (default DEFAULT_BUSY_TIMEOUT_MS: the event loop waits this long). */
  readonly busyTimeoutMs?: number;
  readonly logger?: Partial<Log>;
}

/** Failures that can go away by themselves (a lock released, a disk freed): opening is retried. */
const retryable = (e: HistoryError | undefined) => e?.code === "Locked" || e?.code === "Io";

export class HistorySink extends BusSink {
  readonly name = "history";
  /** Open store, or undefined when opening failed (see `error`). */
  store: HistoryStore | undefined;
  /** The last database error, cleared by the next successful write. */
  error: HistoryError | undefined;
  private readings: Reading[] = [];
  private alerts: Alert[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private droppedReadings = 0;
  private droppedAlerts = 0;
  private readonly maxBacklog: number;
  private pruning: Generator<unknown, PruneCounts, void> | undefined;
  private readonly onReading = (r: Reading) => {
    this.readings.push(r);
    if (this.readings.length > this.maxBacklog) {
      this.readings.shift();
      this.noteDrop();
      this.droppedReadings++;
    }
  };
  private readonly onAlert = (a: Alert) => {
    this.alerts.push(a);
    if (this.alerts.length > this.maxBacklog) {
      this.alerts.shift();
      this.noteDrop();
      this.droppedAlerts++;
    }
  };

  constructor(private readonly options: HistorySinkOptions) {
    super(options.bus, options.logger);
    this.maxBacklog = Math.max(1, options.maxBacklog ?? 10_000);
  }

  protected async onStart(): Promise<void> {
    this.open();
    // A corrupt or incompatible file needs the user; a locked one only needs time.
    if (!this.store && !retryable(this.error)) return;
    this.prune();
    this.listen("reading", this.onReading);
    this.listen("alert", this.onAlert);
    this.flushTimer = setInterval(() => this.flush(), this.options.flushMs ?? 1000);
    this.pruneTimer = setInterval(() => this.prune(), this.options.pruneMs ?? 3_600_000);
    this.flushTimer.unref();
    this.pruneTimer.unref();
  }

  protected override async onStop(): Promise<void> {
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
    this.closeStore();
  }

  /** Writes what is buffered now. Never throws, and never waits longer than the busy timeout per statement. */
  flush(): void {
    if (this.readings.length === 0 && this.alerts.length === 0) return;
    if (this.store?.replacedOnDisk()) this.reopenReplaced();
    if (!this.store && retryable(this.error)) this.open();
    const store = this.store;
    if (!store) return;
    try {
      if (this.alerts.length > 0) {
        store.insertAlerts(this.alerts);
        this.alerts = [];
      }
      if (this.readings.length > 0) {
        store.insert(this.readings);
        this.readings = [];
      }
      if (this.error) this.log.info(`history: writing again to ${store.path}`);
      this.error = undefined;
      if (this.droppedReadings + this.droppedAlerts > 0) {
        this.log.error(
          `history: dropped ${this.droppedReadings} readings and ${this.droppedAlerts} alerts while the database was unavailable`,
        );
        this.droppedReadings = 0;
        this.droppedAlerts = 0;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private open(): void {
    try {
      this.store = HistoryStore.open({
        path: this.options.path,
        ...(this.options.retentionDays === undefined ? {} : { retentionDays: this.options.retentionDays }),
        ...(this.options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: this.options.busyTimeoutMs }),
        log: (m) => this.log.info(m),
      });
    } catch (e) {
      this.store = undefined;
      this.fail(e);
    }
  }

  /** The file was deleted or replaced under us: start a new one instead of writing into the void. */
  private reopenReplaced(): void {
    const path = this.options.path;
    this.log.warn(`history: ${path} was deleted or replaced while running; starting a new file`);
    this.closeStore();
    // Closing merged and removed our WAL; any left over belongs to the vanished file and must
    // not be replayed into the new one.
    if (!existsSync(path)) {
      try {
        rmSync(`${path}-wal`, { force: true });
        rmSync(`${path}-shm`, { force: true });
      } catch {
        // the open below reports what is wrong with the folder
      }
    }
    this.open();
  }

  private closeStore(): void {
    this.pruning = undefined;
    try {
      this.store?.close();
    } catch (e) {
      this.fail(e);
    }
    this.store = undefined;
  }

  private noteDrop(): void {
    if (this.droppedReadings + this.droppedAlerts === 0)
      this.log.warn(
        `history: more than ${this.maxBacklog} rows waiting for the database; dropping the oldest`,
      );
  }

  /**
   * Deletes rows past retention a bounded step per event-loop turn, so polling and MQTT run
   * in between even when millions of rows expire at once. One prune at a time; stopping or
   * reopening the store ends it (the next one continues where it left off).
   */
  private prune(): void {
    if (this.pruning || !this.store) return;
    const steps = this.store.pruneSteps();
    this.pruning = steps;
    const step = () => {
      if (this.pruning !== steps) return;
      try {
        const r = steps.next();
        if (!r.done) {
          setImmediate(step);
          return;
        }
        this.pruning = undefined;
        if (r.value.readings + r.value.alerts > 0)
          this.log.info(
            `history: pruned ${r.value.readings} readings and ${r.value.alerts} alerts past retention`,
          );
      } catch (e) {
        this.pruning = undefined;
        this.fail(e);
      }
    };
    step();
  }

  /** True while a prune is under way (it runs in steps between other work). */
  get pruneRunning(): boolean {
    return this.pruning !== undefined;
  }

  private fail(e: unknown): void {
    const err = isHistoryError(e)
      ? e
      : new HistoryError("Io", `history: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    // Log a failure once per kind, not once per second while a lock is held.
    if (this.error?.code !== err.code) this.log.error(err.message);
    this.error = err;
  }
}
