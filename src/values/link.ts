/**
 * The device link as the bridge sees it: the poller's status of a configured device (`link`,
 * its connection topic: state, reconnects, last error, frame decoder counters, implausible
 * values) and the round-trip time of each poll (`poll`, the reading's `latencyMs`). Their
 * Home Assistant entities belong to the Express device only; the link ones stay visible while
 * the device is down, because they are what says why.
 */
import type { LinkState } from "../model/reading.js";
import type { ValueDef } from "./types.js";

/** Every LinkState once (the record makes a new state a compile error here), as HA enum options. */
const LINK_STATES: Record<LinkState, true> = {
  connecting: true,
  online: true,
  stale: true,
  offline: true,
  yielded: true,
};
export const LINK_OPTIONS = Object.keys(LINK_STATES) as readonly LinkState[];

/** A total of the poller (since it started): total_increasing in HA, a Prometheus counter. */
const total = { stateClass: "total_increasing", diagnostic: true } as const;

export const LINK_VALUES: readonly ValueDef[] = [
  {
    id: "connected",
    source: "link",
    field: "link",
    label: "Connected",
    ha: {
      key: "connected",
      platform: "binary_sensor",
      deviceClass: "connectivity",
      template: "{{ 'ON' if value_json.link == 'online' else 'OFF' }}",
      diagnostic: true,
    },
    metric: { name: "vesc_link_up", help: "1 while the device link is online", oneWhen: "online" },
  },
  {
    id: "link",
    source: "link",
    field: "link",
    label: "Link",
    ha: {
      key: "link",
      deviceClass: "enum",
      options: LINK_OPTIONS,
      diagnostic: true,
      icon: "mdi:lan-connect",
    },
  },
  {
    id: "reconnects",
    source: "link",
    field: "reconnects",
    label: "Reconnects",
    ha: { key: "reconnects", ...total, icon: "mdi:restart" },
    metric: { name: "vesc_reconnects_total", help: "Reconnects of the device link", kind: "counter" },
  },
  {
    id: "lastError",
    source: "link",
    field: "lastError",
    label: "Last error",
    ha: {
      key: "last_error",
      template: "{{ value_json.lastError | default('none') }}",
      diagnostic: true,
      icon: "mdi:alert-circle-outline",
    },
  },
  {
    id: "crcErrors",
    source: "link",
    field: "crcErrors",
    label: "CRC errors",
    ha: { key: "crc_errors", ...total, enabledByDefault: false, icon: "mdi:alert" },
    metric: { name: "vesc_crc_errors_total", help: "Frames dropped for a bad CRC", kind: "counter" },
  },
  {
    id: "discardedBytes",
    source: "link",
    field: "discardedBytes",
    label: "Discarded bytes",
    metric: {
      name: "vesc_discarded_bytes_total",
      help: "Bytes the frame decoder discarded",
      kind: "counter",
    },
  },
  {
    id: "framesReceived",
    source: "link",
    field: "framesReceived",
    label: "Frames received",
    metric: { name: "vesc_frames_received_total", help: "Frames received from the device", kind: "counter" },
  },
  {
    id: "implausibleValues",
    source: "link",
    field: "implausibleValues",
    label: "Implausible values",
    metric: {
      name: "vesc_implausible_values_total",
      help: "BMS values published as null because no pack can have them (docs/protocol.md)",
      kind: "counter",
    },
  },
];

export const POLL_VALUES: readonly ValueDef[] = [
  {
    id: "latencyMs",
    source: "poll",
    field: "latencyMs",
    label: "Poll latency",
    unit: "ms",
    ha: {
      key: "latency",
      deviceClass: "duration",
      unit: "ms",
      stateClass: "measurement",
      precision: 0,
      // A reading without a round-trip time (a replayed one) shows 0, not unknown.
      template: "{{ value_json.latencyMs | default(0) }}",
      diagnostic: true,
      enabledByDefault: false,
    },
    metric: {
      name: "vesc_poll_latency_seconds",
      help: "Round-trip time of one poll",
      kind: "histogram",
      divideBy: 1000,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    },
    history: { column: "latency_ms", scale: 1 },
  },
];
