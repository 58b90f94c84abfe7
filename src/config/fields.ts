/**
 * Zod building blocks shared by the config schema and the transport table's connection
 * fragments (src/transport/kinds.ts), so every port, string and password source reads and
 * fails the same way wherever it appears. Messages are the user-facing half of an error line.
 */
import { z } from "zod";

const PORT = "expected a number 1–65535";

/** A TCP port to connect to, with its default. */
export const port = (def: number) =>
  z
    .number({ error: PORT })
    .int({ error: PORT })
    .min(1, { error: PORT })
    .max(65535, { error: PORT })
    .default(def);

/** A trimmed, non-empty string. */
export const text = (what = "expected a non-empty string") =>
  z.string({ error: what }).trim().min(1, { error: what });

/** A password given inline, in a file, or in an environment variable (resolved by load.ts). */
export const passwordSources = {
  password: z.string({ error: "expected a string" }).optional(),
  passwordFile: text().optional(),
  passwordEnv: text().optional(),
};

/** The rule for the three keys of `passwordSources`, for the key docs. */
export const PASSWORD_NOTE = "give at most one of `password`, `password_file`, `password_env`";
