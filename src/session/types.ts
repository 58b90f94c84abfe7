/**
 * Options and events of the poller (one per configured device), shared by the session
 * layer and everything that composes pollers (bridge, CLI, benchmarks).
 */
import type { CanNodeKind, CanReadGroup, DeviceStatus, Reading } from "../model/reading.js";
import type { LinkPolicy, TransportFactory } from "../transport/transport.js";
import type { Clock } from "./pollClock.js";

export interface CanNodeSpec {
  readonly id: number;
  readonly kind: CanNodeKind;
  /** Motor nodes: what to read (default DEFAULT_MOTOR_GROUPS, src/session/rideReader.ts). */
  readonly groups?: readonly CanReadGroup[];
  /** Motor nodes: the unit of the derived speed (default kmh). */
  readonly speedUnit?: "kmh" | "mph";
}

export interface PollerOptions {
  readonly deviceId: string;
  readonly transport: TransportFactory;
  /** Transport URL without secrets, for status and logs (never inspected: see `policy`). */
  readonly url: string;
  /**
   * When to yield the device to another client and what the handshake allows for. Default:
   * the factory's own (factories from src/transport/kinds.ts carry their kind's), else none.
   */
  readonly policy?: LinkPolicy;
  /** What the poller sleeps on (default: the process's shared poll clock); tests drive a manual one. */
  readonly clock?: Clock;
  /** Time between the starts of two polls, ms (default 5000, minimum 100). */
  readonly intervalMs?: number;
  /** Per-request reply timeout, ms (default 2000; PING_CAN uses at least 5000). */
  readonly requestTimeoutMs?: number;
  /** CAN nodes to read through COMM_FORWARD_CAN. Never anything else. */
  readonly can?: readonly CanNodeSpec[];
  /**
   * Opt-in (default false): COMM_GET_CUSTOM_CONFIG(0) once after FW_VERSION, reply discarded
   * unread. It makes the Express send its WiFi and hub passwords and BLE pin over the link.
   */
  readonly customConfigHandshake?: boolean;
  /** Read the device's own BMS values (default true). */
  readonly readBms?: boolean;
  /** A reading older than this many intervals marks the device stale (default 3). */
  readonly staleAfterIntervals?: number;
  /** How long to stay away after another client took the device, ms (default 600000). */
  readonly yieldMs?: number;
  /**
   * Wait this long before the first connection, ms (default 0). A bridge with many devices
   * spreads their starts over one interval, so their polls do not all fall in the same instant.
   */
  readonly startDelayMs?: number;
  /** Reconnect backoff: first delay and cap, ms (defaults 1000 and 60000). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

export interface PollerEvents {
  reading: [reading: Reading];
  status: [status: DeviceStatus];
  /**
   * Reported, and the poller keeps going (reconnects with backoff), except after a
   * non-recoverable TransportError: then it has stopped trying (link offline, lastError set).
   */
  error: [error: Error];
  /**
   * A line worth logging, already phrased (no secrets): "warn" once per episode of failed
   * polls (the first malformed reply or failed poll since the last reading), "info" per
   * reconnect (why, how long the link was up, the backoff delay), "error" once when the
   * poller gives up on a connection that can never succeed.
   */
  log: [level: "warn" | "info" | "error", message: string];
}
