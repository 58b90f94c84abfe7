/**
 * What every benchmark returns, the console table, and BENCHMARKS.md. Each benchmark owns one
 * marked section of BENCHMARKS.md, so `npm run bench -- decoder` refreshes only its own numbers
 * and the file always says which command and which machine produced each table.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchRow {
  readonly metric: string;
  readonly unit: string;
  readonly ours: number;
  /** The reference measured in the same run, when the row has one. */
  readonly reference?: number;
  /** ours ÷ reference (or whatever the row's goal is phrased in), printed as "×ratio". */
  readonly ratio?: number;
  /** The goal in words, e.g. "ratio ≥ 0.33 (within 3× of C)". */
  readonly goal?: string;
  readonly met?: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** What "reference" means in this table. */
  readonly reference: string;
  readonly rows: readonly BenchRow[];
  readonly notes: readonly string[];
  /** Extra lines (e.g. a markdown table of every step), printed verbatim. */
  readonly details?: readonly string[];
}

export interface Benchmark {
  readonly name: string;
  run(args: readonly string[]): Promise<BenchResult>;
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const gb = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} cores (nproc), ${cpu}, ${gb} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

function cells(r: BenchRow): string[] {
  return [
    r.metric,
    `${fmt(r.ours)} ${r.unit}`,
    r.reference === undefined ? "–" : `${fmt(r.reference)} ${r.unit}`,
    r.ratio === undefined ? "–" : `×${r.ratio.toFixed(2)}`,
    r.goal ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ];
}

const HEAD = ["metric", "ours", "reference", "ratio", "goal", "met"];

export function consoleTable(result: BenchResult): string {
  const rows = [HEAD, ...result.rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [
    `== ${result.name}: ${result.title}`,
    `   reference: ${result.reference}`,
    line(HEAD),
    ...rows.slice(1).map(line),
    ...result.notes.map((n) => `   - ${n}`),
    ...(result.details ?? []),
  ].join("\n");
}

function markdownSection(result: BenchResult, command: string, when: Date): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `<!-- bench:${result.name} -->`,
    `### ${result.name}: ${result.title}`,
    "",
    `Reproduce: \`${command}\`  `,
    `Measured ${when.toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine()}.  `,
    `Reference: ${result.reference}`,
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map(() => "---").join("|")}|`,
    ...result.rows.map((r) => `| ${cells(r).map(esc).join(" | ")} |`),
    "",
    ...result.notes.map((n) => `- ${n}`),
    ...(result.details ? ["", ...result.details] : []),
    `<!-- /bench:${result.name} -->`,
  ].join("\n");
}

const PREAMBLE = `# Benchmarks

Produced by \`npm run bench\` (all) or \`npm run bench -- <name>\` (one); each section below is
rewritten by the run that measured it. Every table compares vesc2mqtt with a reference
measured in the same run on the same machine, so the ratio is the number that travels
between machines. Benchmarks are not tests: \`npm test\` never asserts timing.
`;

/** Replaces (or appends) each result's section in `path`, keeping the others. */
export function writeBenchmarksMd(path: string, results: readonly BenchResult[], command: string): void {
  let text = existsSync(path) ? readFileSync(path, "utf8") : PREAMBLE;
  const when = new Date();
  for (const result of results) {
    const section = markdownSection(result, command, when);
    const start = `<!-- bench:${result.name} -->`;
    const end = `<!-- /bench:${result.name} -->`;
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    text =
      a >= 0 && b > a
        ? text.slice(0, a) + section + text.slice(b + end.length)
        : `${text.trimEnd()}\n\n${section}\n`;
  }
  writeFileSync(path, text);
}

/** Percentile of an unsorted sample (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The package root, found from this file whether it runs from bench/ or build-bench/bench/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("package.json not found above bench/");
    dir = up;
  }
  return dir;
}
