/**
 * Every relative link in README.md and docs/ points at a file that exists, and a `#anchor`
 * at a heading of that file (GitHub's heading ids), so moving or renaming a section cannot
 * leave a dangling link behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const root = resolve(new URL("../..", import.meta.url).pathname);

/** Markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens, -1 … for repeats. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const fenceless = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of fenceless.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = (m[1] ?? "")
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[`*]/g, "")
      .toLowerCase();
    const base = text.replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    let id = base;
    for (let n = 1; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
  }
  return ids;
}

/** Problems with the relative links of one Markdown file, as "file: link (why)". */
function brokenLinks(file: string, markdown: string, readTarget = readFileSync): string[] {
  const problems: string[] = [];
  const name = relative(root, file);
  for (const m of prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const link = m[1] ?? "";
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
    const [path = "", anchor] = link.split("#", 2);
    const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
    if (path !== "" && !existsSync(target)) {
      problems.push(`${name}: ${link} (no such file)`);
      continue;
    }
    if (anchor === undefined || anchor === "") continue;
    if (!target.endsWith(".md") || (path !== "" && statSync(target).isDirectory())) {
      problems.push(`${name}: ${link} (anchor into a file that is not Markdown)`);
      continue;
    }
    if (!headingIds(String(readTarget(target, "utf8"))).has(decodeURIComponent(anchor)))
      problems.push(`${name}: ${link} (no heading #${anchor} in ${relative(root, target)})`);
  }
  return problems;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(p);
    return e.name.endsWith(".md") ? [p] : [];
  });
}

describe("documentation links", () => {
  const files = [join(root, "README.md"), ...markdownFiles(join(root, "docs"))];

  test("README.md and every docs/ page link only to files and headings that exist", () => {
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((f) => brokenLinks(f, readFileSync(f, "utf8")));
    expect(problems).toEqual([]);
  });

  test("every docs/ page is reachable from docs/README.md", () => {
    const index = readFileSync(join(root, "docs/README.md"), "utf8");
    const unlisted = files
      .filter((f) => f.startsWith(join(root, "docs/")) && !f.endsWith("/README.md"))
      .map((f) => relative(join(root, "docs"), f))
      .filter((f) => !index.includes(`](${f})`));
    expect(unlisted).toEqual([]);
  });
});

describe("the link checker", () => {
  const here = join(root, "docs/example.md");

  test("finds a missing file, a missing heading and a repeated heading's id", () => {
    const md = [
      "# Title",
      "## Same",
      "## Same",
      "[ok](#same-1) [gone](nowhere.md) [bad anchor](#nope) [up](../README.md#quick-start)",
      "[web](https://example.org/x.md) `[code](not-a-link.md)`",
      "```",
      "[fenced](not-a-link-either.md)",
      "```",
    ].join("\n");
    const read = ((p: string) => (p === here ? md : readFileSync(p, "utf8"))) as typeof readFileSync;
    expect(brokenLinks(here, md, read)).toEqual([
      "docs/example.md: nowhere.md (no such file)",
      "docs/example.md: #nope (no heading #nope in docs/example.md)",
    ]);
  });

  test("derives GitHub's heading ids", () => {
    expect([...headingIds("## Quick start: `vesc2mqtt demo`\n## `mqtt`\n## A, b & c\n")]).toEqual([
      "quick-start-vesc2mqtt-demo",
      "mqtt",
      "a-b--c",
    ]);
  });
});
