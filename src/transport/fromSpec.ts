/**
 * Device URLs → transports, through the transport table (kinds.ts):
 *   tcp://host:65102   hub://host:65101/<hub id>   serial:///dev/ttyACM0?baud=115200
 * URLs never carry the hub password; it is resolved by the caller (file, env, config).
 */
import {
  createTransportFactory,
  type DeviceUrlOf,
  type FactoryOptions,
  splitHostPort,
  TRANSPORT_KINDS,
  type AnyTransportKind,
  type SpecOf,
  type TransportKindName,
  transportKind,
  transportUrl,
} from "./kinds.js";
import { TransportError, type TransportFactory } from "./transport.js";

export { createTransportFactory, type FactoryOptions, splitHostPort, transportUrl };

/** A parsed device URL: a ConnectionSpec without the hub password. */
export type DeviceUrl = { [K in TransportKindName]: DeviceUrlOf<SpecOf<K>> }[TransportKindName];

const KINDS = Object.values(TRANSPORT_KINDS) as AnyTransportKind[];

function badUrl(url: string, why: string): TransportError {
  // Echo the URL only without any userinfo part, which could hold a password.
  const shown = url.replace(/\/\/[^@/]*@/, "//");
  return new TransportError("ConnectFailed", `invalid device URL "${shown}": ${why}`, false);
}

/** Parses a device URL of any kind in the table. Throws TransportError (not recoverable). */
export function parseDeviceUrl(url: string): DeviceUrl {
  const fail = (why: string): never => {
    throw badUrl(url, why);
  };
  const m = /^([a-z]+):\/\/(.*)$/i.exec(url.trim());
  if (!m) return fail(`expected ${KINDS.map((k) => k.urlForm).join(", ")}`);
  const scheme = (m[1] ?? "").toLowerCase();
  const kind = KINDS.find((k) => k.scheme === scheme);
  if (!kind) return fail(`unknown scheme "${scheme}" (${KINDS.map((k) => k.scheme).join(", ")})`);
  return kind.parseUrl(m[2] ?? "", fail) as DeviceUrl;
}

/** Device URL + resolved password → factory. */
export function transportFromUrl(
  url: string,
  options: FactoryOptions & { password?: string } = {},
): TransportFactory {
  const parsed = parseDeviceUrl(url);
  const kind = transportKind(parsed.type);
  if (kind.needsPassword && options.password === undefined) {
    throw new TransportError("ConnectFailed", `${transportUrl(parsed)}: a hub password is required`, false);
  }
  const { password } = options;
  return createTransportFactory(
    kind.fromConfig({ ...parsed, ...(password === undefined ? {} : { password }) }),
    options,
  );
}
