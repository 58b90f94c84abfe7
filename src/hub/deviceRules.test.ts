import { expect, test } from "vitest";
import { hubDeviceProblems } from "./deviceRules.js";
import { HubServer } from "./hubServer.js";

const at = (i: number) => `d[${i}]`;

test("usable devices give no problems", () => {
  expect(
    hubDeviceProblems(
      [
        { id: "board1", password: "pw" },
        { id: "abc", password: undefined },
      ],
      at,
    ),
  ).toEqual([]);
});

test.each([
  [{ id: "ab", password: "pw" }, 'd[0]: the id "ab" is too short'],
  [{ id: "a b", password: "pw" }, 'd[0]: the id "a b" is too short'],
  [{ id: "dev:1", password: "pw" }, "d[0]: the id must not contain ':'"],
  [{ id: "dev1", password: "" }, "d[0]: the password is empty"],
  [{ id: "dev1", password: "a:b" }, "d[0]: the password must not contain ':'"],
  [{ id: "dev1", password: "a\nb" }, "d[0]: the password must not contain ':', a newline"],
  [{ id: "dev1", password: "x".repeat(114) }, "d[0]: id and password together are too long"],
])("%j → %s", (device, message) => {
  const problems = hubDeviceProblems([device], at);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain(message);
  if (device.password.length > 0) expect(problems[0]).not.toContain(device.password);
});

test("the longest id and password that fit the login line pass", () => {
  // "VESCTOOL:DEV1:" + 113 + "\n" = 128 bytes.
  expect(hubDeviceProblems([{ id: "dev1", password: "x".repeat(113) }], at)).toEqual([]);
});

test("ids that differ only in case and spaces are duplicates", () => {
  expect(
    hubDeviceProblems(
      [
        { id: "My Board", password: "a" },
        { id: "other", password: "b" },
        { id: "MYBOARD", password: "c" },
      ],
      at,
    ),
  ).toEqual(['d[2]: the id "MYBOARD" is already given by d[0] (ids ignore case and spaces)']);
});

test("HubServer refuses a pinned device it could never serve", () => {
  expect(() => new HubServer({ devices: [{ id: "ab", password: "pw" }] })).toThrow(TypeError);
  expect(() => new HubServer({ devices: [{ id: "dev1", password: "" }] })).toThrow(/password is empty/);
});
