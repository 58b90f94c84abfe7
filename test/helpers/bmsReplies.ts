/**
 * Records every COMM_BMS_GET_VALUES reply a simulated device produces (before faults are
 * applied), as the poller would publish it: a reading is right only if it is one of these.
 */
import { CommandId, decodeBmsValues } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import type { SimDevice } from "../../src/sim/index.js";

export function recordBmsReplies(device: SimDevice): Set<string> {
  const produced = new Set<string>();
  device.defineBehavior({
    onRequest(payload, ctx) {
      if (payload[0] !== CommandId.BmsGetValues) return { handled: false };
      const reply = ctx.defaultReply();
      for (const r of reply) produced.add(JSON.stringify(withStats(decodeBmsValues(r))));
      return { handled: true, reply };
    },
  });
  return produced;
}
