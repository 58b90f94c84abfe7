/**
 * The built `vesc2mqtt` executable's own contract: --help, --version, unknown commands, and a
 * user mistake in a sub-command — one line on stderr, a non-zero exit, never a stack trace.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;

function run(...args: string[]) {
  if (!existsSync(bin)) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vesc2mqtt executable", () => {
  it("--version prints the package version", () => {
    const version = (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;
    expect(run("--version")).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("--help lists every sub-command", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    for (const cmd of ["read", "scan", "run", "demo", "sim", "hub"])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, "m"));
  });

  it("an unknown sub-command is one line on stderr and exit 2", () => {
    const r = run("frobnicate");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it("each sub-command answers --help with its usage", () => {
    for (const cmd of ["read", "scan", "run", "demo", "sim", "hub"]) {
      const r = run(cmd, "--help");
      expect(r.code, cmd).toBe(0);
      expect(r.stdout + r.stderr, cmd).toMatch(/usage/i);
    }
  });

  it("a bad flag on any sub-command: one stderr line with the flag, exit 2, no stack trace", () => {
    for (const cmd of ["read", "scan", "run", "demo", "sim", "hub"]) {
      const r = run(cmd, "--no-such-flag");
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toContain("--no-such-flag");
      expect(r.stderr, cmd).not.toMatch(/\n\s+at /);
    }
  });
});
