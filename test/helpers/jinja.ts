/**
 * Renders Home Assistant templates with real Jinja2 (the engine HA uses) in one python3
 * process: cases go in as JSON on stdin, results come back as JSON on stdout. The
 * environment is HA's: a sandboxed immutable environment, an Undefined that logs instead of
 * raising when printed (HA shows such a state as `unknown`: here every such warning is
 * reported), and HA's `float`, `int`, `round`, `is_defined` filters and `is_number` test.
 */
import { spawnSync } from "node:child_process";

export interface JinjaCase {
  readonly id: string;
  readonly template: string;
  /** The MQTT payload: `value`, and parsed by Python's json as `value_json` when it is JSON (as HA does). */
  readonly value: string;
}

export interface JinjaResult {
  readonly id: string;
  /** Rendered and stripped, as HA's render_with_possible_json_value returns it. */
  readonly output?: string;
  readonly error?: string;
  /** Undefined-variable warnings HA would log while rendering. */
  readonly warnings: readonly string[];
}

const SCRIPT = `
import json, logging, math, sys
from jinja2 import Undefined, make_logging_undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

warnings = []
class Collect(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())
log = logging.getLogger("ha-template")
log.propagate = False
log.setLevel(logging.DEBUG)
log.addHandler(Collect())

_SENTINEL = object()

# homeassistant/helpers/template.py: forgiving_float / forgiving_int / forgiving_round / fail_when_undefined
def forgiving_float(value, default=_SENTINEL):
    try:
        return float(value)
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise ValueError(f"float got invalid input '{value}' when rendering template")
        return default

def forgiving_int(value, default=_SENTINEL, base=10):
    try:
        if isinstance(value, str):
            return int(value, base)
        return int(value)
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise ValueError(f"int got invalid input '{value}' when rendering template")
        return default

def forgiving_round(value, precision=0, method="common", default=_SENTINEL):
    try:
        multiplier = float(10**precision)
        if method == "ceil":
            value = math.ceil(float(value) * multiplier) / multiplier
        elif method == "floor":
            value = math.floor(float(value) * multiplier) / multiplier
        elif method == "half":
            value = round(float(value) * 2) / 2
        else:
            value = round(float(value), precision)
        return int(value) if precision == 0 else value
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise ValueError(f"round got invalid input '{value}' when rendering template")
        return default

def fail_when_undefined(value):
    if isinstance(value, Undefined):
        value()
    return value

def is_number(value):
    try:
        fvalue = float(value)
    except (ValueError, TypeError):
        return False
    return not (math.isnan(fvalue) or math.isinf(fvalue))

env = ImmutableSandboxedEnvironment(undefined=make_logging_undefined(logger=log))
env.filters["float"] = forgiving_float
env.filters["int"] = forgiving_int
env.filters["round"] = forgiving_round
env.filters["is_defined"] = fail_when_undefined
env.globals["float"] = forgiving_float
env.globals["int"] = forgiving_int
env.tests["is_number"] = is_number

out = []
for case in json.load(sys.stdin):
    del warnings[:]
    result = {"id": case["id"]}
    try:
        variables = {"value": case["value"]}
        try:
            variables["value_json"] = json.loads(case["value"])
        except ValueError:
            pass
        result["output"] = env.from_string(case["template"]).render(**variables).strip()
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"
    result["warnings"] = list(warnings)
    out.append(result)
json.dump(out, sys.stdout)
`;

const CANDIDATES = ["python3", "/usr/bin/python3"];

/** The first python3 that can import jinja2, or undefined. */
export function jinjaPython(): string | undefined {
  for (const py of CANDIDATES) {
    const r = spawnSync(py, ["-c", "import jinja2"], { stdio: "ignore", timeout: 10_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** Renders every case in one python process. */
export function renderJinja(python: string, cases: readonly JinjaCase[]): Map<string, JinjaResult> {
  const r = spawnSync(python, ["-c", SCRIPT], {
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`jinja renderer failed (${r.status}): ${r.stderr}`);
  const results = JSON.parse(r.stdout) as JinjaResult[];
  return new Map(results.map((x) => [x.id, x]));
}
