import { connect } from "nats";
import { announceReady, exitWithParent } from "./announce.js";

/** NATS queue group every benchmark responder joins, as a scaled-out service would. */
export const NATS_QUEUE_GROUP = "bench";

/**
 * One NATS connection per subject, each subscribed in a queue group and answering every request
 * with its own payload: the NATS counterpart of one Switchyard provider per channel.
 */
export async function runNatsResponder(args: { servers: string; subjects: string[]; caFile?: string }): Promise<void> {
  const connections = await Promise.all(
    args.subjects.map(async (subject) => {
      const nc = await connect({ servers: args.servers, noAsyncTraces: true, ...(args.caFile === undefined ? {} : { tls: { caFile: args.caFile } }) });
      nc.subscribe(subject, { queue: NATS_QUEUE_GROUP, callback: (err, msg) => err || msg.respond(msg.data) });
      await nc.flush();
      return nc;
    }),
  );
  exitWithParent(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
  });
  announceReady({ subscriptions: connections.length });
}
