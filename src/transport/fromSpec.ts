/**
 * Device URLs → transports, through the transport table (kinds.ts), e.g.
 *   tcp://host:65102   hub://host:65101/<hub id>   serial:///dev/ttyACM0?baud=115200
 * URLs never carry a password; it is resolved by the caller (file, env, config).
 */
import {
  type AnyTransportKind,
  createTransportFactory,
  type DeviceUrlOf,
  type FactoryOptions,
  kindFactory,
  type SpecBase,
  type SpecOf,
  splitHostPort,
  TRANSPORT_KIND_LIST,
  type TransportKindName,
  transportUrl,
} from "./kinds.js";
import { TransportError, type TransportFactory } from "./transport.js";

export { createTransportFactory, type FactoryOptions, splitHostPort, transportUrl };

/** A parsed device URL: a ConnectionSpec without its password. */
export type DeviceUrl = { [K in TransportKindName]: DeviceUrlOf<SpecOf<K>> }[TransportKindName];

function badUrl(url: string, why: string): TransportError {
  // Echo the URL only without any userinfo part, which could hold a password.
  const shown = url.replace(/\/\/[^@/]*@/, "//");
  return new TransportError("ConnectFailed", `invalid device URL "${shown}": ${why}`, false);
}

/** Parses a device URL of any kind in the table. Throws TransportError (not recoverable). */
export function parseDeviceUrl(url: string): DeviceUrl {
  return parseDeviceUrlOf(TRANSPORT_KIND_LIST, url).spec as DeviceUrl;
}

/** Parses a device URL against `kinds` (the table, or a table a test builds): the row and the spec. */
export function parseDeviceUrlOf(
  kinds: readonly AnyTransportKind[],
  url: string,
): { kind: AnyTransportKind; spec: DeviceUrlOf<SpecBase> } {
  const fail = (why: string): never => {
    throw badUrl(url, why);
  };
  const m = /^([a-z]+):\/\/(.*)$/i.exec(url.trim());
  if (!m) return fail(`expected ${kinds.map((k) => k.urlForm).join(", ")}`);
  const scheme = (m[1] ?? "").toLowerCase();
  const kind = kinds.find((k) => k.scheme === scheme);
  if (!kind) return fail(`unknown scheme "${scheme}" (${kinds.map((k) => k.scheme).join(", ")})`);
  try {
    return { kind, spec: kind.parseUrl(m[2] ?? "", fail) };
  } catch (e) {
    // A row's decodeURIComponent on a bad %-escape: the URL's fault, said as such.
    if (e instanceof URIError) return fail("malformed %-escape");
    throw e;
  }
}

/** Device URL + resolved password → factory. */
export function transportFromUrl(
  url: string,
  options: FactoryOptions & { password?: string } = {},
): TransportFactory {
  return transportFromUrlOf(TRANSPORT_KIND_LIST, url, options);
}

/** transportFromUrl against `kinds`. */
export function transportFromUrlOf(
  kinds: readonly AnyTransportKind[],
  url: string,
  options: FactoryOptions & { password?: string } = {},
): TransportFactory {
  const { kind, spec } = parseDeviceUrlOf(kinds, url);
  const { password } = options;
  if (kind.password !== undefined && password === undefined) {
    throw new TransportError(
      "ConnectFailed",
      `${kind.url(spec)}: a ${kind.password.what} is required`,
      false,
    );
  }
  // A URL says what a validated config entry says, less the password.
  const entry = { ...spec, ...(password === undefined ? {} : { password }) } as Parameters<
    AnyTransportKind["fromConfig"]
  >[0];
  return kindFactory(kind, kind.fromConfig(entry), options);
}
