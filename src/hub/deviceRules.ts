/**
 * What a pinned hub device must look like to be usable at all, checked once for the CLI's
 * `--allow`, the config's `hub.devices` and HubServer itself. The login line is split on
 * `:` and ends at `\n`; ids are compared upper-cased without spaces, and one shorter than
 * 3 characters after that is refused by every hub (vesc_tool tcphub.cpp). Messages name
 * the device and the rule, never the password. Pure: no I/O.
 */
import { normaliseHubId } from "./loginLine.js";

export interface HubDeviceLike {
  readonly id: string;
  /** Undefined = not resolved (the caller has already reported that). */
  readonly password?: string | undefined;
}

/** The longest login line the hub reads by default (`VESCTOOL:<id>:<password>\n`). */
export const DEFAULT_MAX_LINE_BYTES = 128;

/**
 * One message per problem, each starting with `where(i)` of the device it is about; an
 * empty list when every device can register and be logged in to.
 */
export function hubDeviceProblems(
  devices: readonly HubDeviceLike[],
  where: (index: number) => string,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): string[] {
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  devices.forEach((d, i) => {
    const key = normaliseHubId(d.id);
    if (/[:\n\0]/.test(d.id)) problems.push(`${where(i)}: the id must not contain ':', a newline or NUL`);
    else if (key.length < 3)
      problems.push(`${where(i)}: the id "${d.id}" is too short (at least 3 characters, spaces not counted)`);
    const earlier = firstIndex.get(key);
    if (earlier !== undefined)
      problems.push(
        `${where(i)}: the id "${d.id}" is already given by ${where(earlier)} (ids ignore case and spaces)`,
      );
    else firstIndex.set(key, i);

    const pw = d.password;
    if (pw === undefined) return;
    if (pw === "") problems.push(`${where(i)}: the password is empty`);
    else if (/[:\n\0]/.test(pw))
      problems.push(`${where(i)}: the password must not contain ':', a newline or NUL`);
    else if (Buffer.byteLength(`VESCTOOL:${key}:${pw}\n`) > maxLineBytes)
      problems.push(
        `${where(i)}: id and password together are too long for the ${maxLineBytes}-byte login line`,
      );
  });
  return problems;
}
