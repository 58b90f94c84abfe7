import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { CONFIG_DOC_PATH, KEY_DOCS, renderConfigDocs } from "./docs.js";

const root = new URL("../../", import.meta.url);

describe("docs/configuration.md", () => {
  test("is what the schema generates (run `npm run docs:config` after changing the schema)", () => {
    const onDisk = readFileSync(new URL(CONFIG_DOC_PATH, root), "utf8");
    expect(onDisk).toBe(renderConfigDocs());
  });

  test("lists every key with its default, in the user's snake_case", () => {
    const doc = renderConfigDocs();
    expect(doc).toContain("| `devices[].interval_s` | number ≥ 0.1 | `5` |");
    expect(doc).toContain(
      "| `devices[].connection.port` | whole number 1–65535 (tcp, hub only) | `65102` (tcp), `65101` (hub) |",
    );
    expect(doc).toContain("| `web.token` | string \\| `null` | `null` |");
    expect(doc).toContain("| `mqtt.discovery_mode` | `device` \\| `entity` | `device` |");
    expect(doc).not.toMatch(/`[a-z]+[A-Z][a-zA-Z]*`/);
  });
});

describe("renderConfigDocs", () => {
  const docs = { log_level: "How much is logged.", web: "Web.", "web.port": "Port." };
  const schema = z.strictObject({
    logLevel: z.enum(["warn", "info"]).default("warn"),
    web: z.strictObject({ port: z.number().int().min(0).max(65535).default(8080) }).prefault({}),
  });

  test("takes types and defaults from the schema", () => {
    const doc = renderConfigDocs(schema, docs);
    expect(doc).toContain("| `log_level` | `warn` \\| `info` | `warn` | How much is logged. |");
    expect(doc).toContain("## `web`\n\nWeb.");
    expect(doc).toContain("| `web.port` | whole number 0–65535 | `8080` | Port. |");
  });

  test("refuses a schema key without a description", () => {
    const grown = schema.extend({ dataDir: z.string().default("./data") });
    expect(() => renderConfigDocs(grown, docs)).toThrow(
      "config keys without a description in KEY_DOCS (src/config/docs.ts): data_dir",
    );
  });

  test("refuses a description of a key the schema does not have", () => {
    expect(() => renderConfigDocs(schema, { ...docs, "web.host": "Host." })).toThrow(
      "KEY_DOCS (src/config/docs.ts) describes keys the schema does not have: web.host",
    );
  });

  test("describes every key in one line", () => {
    for (const [key, text] of Object.entries(KEY_DOCS)) expect(text, key).not.toMatch(/\n/);
  });
});
