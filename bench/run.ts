/**
 * `npm run bench [-- name... [--flag value...]]`: runs every benchmark (or the named ones),
 * prints a table per benchmark with its ratio against the reference measured in the same
 * run, and rewrites their sections of BENCHMARKS.md. Flags are passed to each benchmark
 * (decoder: --mb --iterations; fleet: --sizes --seconds; soak: --polls; battery: --seed).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { batteryBench } from "./battery.js";
import { decoderBench } from "./decoder.js";
import { fleetBench } from "./fleet.js";
import {
  type Benchmark,
  type BenchResult,
  consoleTable,
  machine,
  projectRoot,
  writeBenchmarksMd,
} from "./report.js";
import { soakBench } from "./soak.js";

const here = path.dirname(fileURLToPath(import.meta.url));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/**
 * A benchmark owned by another module (bench/latency.ts), loaded only if its file was built:
 * `exportName` is a function returning a BenchResult (or anything else, reported as JSON).
 */
function optional(name: string, file: string, exportName: string): Benchmark | undefined {
  const built = path.join(here, file);
  if (!existsSync(built)) return undefined;
  return {
    name,
    async run(args) {
      const mod: unknown = await import(pathToFileURL(built).href);
      const fn = isRecord(mod) ? mod[exportName] : undefined;
      if (typeof fn !== "function") throw new Error(`${file} does not export ${exportName}()`);
      const result: unknown = await fn(args);
      if (isRecord(result) && Array.isArray(result.rows)) {
        return {
          name,
          title: typeof result.title === "string" ? result.title : file,
          reference: typeof result.reference === "string" ? result.reference : "",
          rows: result.rows as BenchResult["rows"],
          notes: Array.isArray(result.notes) ? result.notes.map(String) : [],
          ...(Array.isArray(result.details) ? { details: result.details.map(String) } : {}),
        };
      }
      return {
        name,
        title: `${file} (raw result)`,
        reference: "",
        rows: [],
        notes: [JSON.stringify(result)],
      };
    },
  };
}

function allBenchmarks(): Benchmark[] {
  const list: Array<Benchmark | undefined> = [
    decoderBench,
    optional("latency", "latency.js", "runLatencyBench"),
    fleetBench,
    soakBench,
    batteryBench,
  ];
  return list.filter((b): b is Benchmark => b !== undefined);
}

async function main(argv: readonly string[]): Promise<number> {
  const all = allBenchmarks();
  const known = new Set(all.map((b) => b.name));
  const names = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; have: ${[...known].join(", ")}`);
    return 2;
  }
  const selected = names.length === 0 ? all : all.filter((b) => names.includes(b.name));
  console.log(`machine: ${machine()}`);
  const results: BenchResult[] = [];
  let failed = 0;
  for (const bench of selected) {
    console.log(`\nrunning ${bench.name} ...`);
    try {
      const result = await bench.run(argv);
      results.push(result);
      console.log(consoleTable(result));
    } catch (e) {
      failed++;
      console.error(`${bench.name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const file = path.join(projectRoot(), "BENCHMARKS.md");
  if (results.length > 0) {
    writeBenchmarksMd(file, results, command);
    console.log(`\nwrote ${results.map((r) => r.name).join(", ")} to ${file}`);
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
