/**
 * `vesc2mqtt/client`: talking to devices — transports (TCP, VESC Hub, serial), the session
 * (request ↔ reply over one connection) and the poller (persistent link, handshake once,
 * reconnect with backoff, staleness, yielding to VESC Tool). Separate from the package root
 * so that the pure protocol library loads without serialport.
 */
export {
  type HandshakeOptions,
  canFirmware,
  DeviceReader,
  handshake,
  scanCanBus,
  withStats,
} from "./session/device.js";
export {
  DEFAULT_INTERVAL_MS,
  DEFAULT_YIELD_MS,
  Poller,
  type PollerCounters,
  TAKEN_MESSAGE,
} from "./session/poller.js";
export {
  isSessionError,
  Session,
  SessionError,
  type SessionErrorCode,
  type SessionOptions,
} from "./session/session.js";
export type { CanNodeSpec, PollerEvents, PollerOptions } from "./session/types.js";
export { type Clock, ManualClock, pollClock } from "./session/pollClock.js";
export {
  createTransportFactory,
  type DeviceUrl,
  parseDeviceUrl,
  transportFromUrl,
  transportUrl,
} from "./transport/fromSpec.js";
export { hubTransport } from "./transport/hub.js";
export { serialTransport } from "./transport/serial.js";
export { tcpTransport } from "./transport/tcp.js";
export { StreamTransport } from "./transport/stream.js";
export { TRANSPORT_KINDS, type TransportKind, type TransportKindName } from "./transport/kinds.js";
export {
  type ConnectionSpec,
  isTransportError,
  type LinkPolicy,
  PLAIN_LINK,
  type Transport,
  TransportError,
  type TransportErrorCode,
  type TransportFactory,
  withPolicy,
} from "./transport/transport.js";
