/**
 * The repository stands alone: no source, test, benchmark, example or document points at
 * notes outside it (a spec folder, design or style notes, numbered sections of them, issue
 * numbers), and every docs/ page a file names exists. Upstream firmware files ("vesc_express
 * main/bms.c") are fine to cite: anyone can read them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const root = resolve(new URL("../..", import.meta.url).pathname);
const SCANNED = ["src", "test", "bench", "docs", "examples", "README.md"];
const TEXT = /\.(ts|js|mjs|cjs|md|yaml|yml|json|html|css|sh|txt)$/;

function files(path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return TEXT.test(path) ? [path] : [];
  return readdirSync(full).flatMap((name) => files(join(path, name)));
}

/** Built from pieces so this file does not match itself. */
const OUTSIDE: ReadonlyArray<readonly [string, RegExp]> = [
  ["the spec folder", new RegExp(`(\\.\\./|\\b)${"sha"}red/`)],
  ["design notes", new RegExp(`\\b${"des"}ign\\.md\\b`)],
  ["style notes", new RegExp(`\\b${"sty"}le\\.md\\b`)],
  ["a numbered section", new RegExp(`${"\u00a7"}`)],
  ["an issue number", new RegExp(`\\b${"iss"}ues? #\\d+`, "i")],
];

describe("the repository stands alone", () => {
  const scanned = SCANNED.flatMap(files).filter((f) => !f.startsWith("test/fixtures/"));

  test("nothing points at notes outside the repository", () => {
    expect(scanned.length).toBeGreaterThan(50);
    const hits: string[] = [];
    for (const f of scanned) {
      readFileSync(join(root, f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const [what, re] of OUTSIDE)
            if (re.test(line)) hits.push(`${f}:${i + 1}: ${what}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  test("every docs/ page a file names exists", () => {
    const missing: string[] = [];
    for (const f of scanned) {
      for (const m of readFileSync(join(root, f), "utf8").matchAll(/\bdocs\/[\w./-]*?\.md\b/g)) {
        if (!existsSync(join(root, m[0])) && !f.startsWith("test/docs/")) missing.push(`${f}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("the patterns catch what they are meant to", () => {
    const sample = [
      `see ../${"sha"}red/protocol.md`,
      `${"des"}ign.md`,
      `${"sty"}le.md rule 9`,
      `protocol.md ${"\u00a7"}8b`,
      `${"iss"}ue #12`,
    ];
    for (const [i, line] of sample.entries()) expect(OUTSIDE[i]?.[1].test(line), line).toBe(true);
    expect(OUTSIDE.some(([, re]) => re.test("vesc_express main/bms.c, docs/protocol.md"))).toBe(false);
  });
});
