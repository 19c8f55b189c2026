import { announceReady, exitWithParent } from "./announce.js";

/** NATS queue group every benchmark responder joins, as a scaled-out service would. */
export const NATS_QUEUE_GROUP = "bench";

/**
 * One NATS connection per subject, each subscribed in a queue group and answering every request
 * with its own payload: the NATS counterpart of one Switchyard provider per channel.
 *
 * `nats` is imported here, not at the top: every peer role runs from the one peer.js bundle, and a
 * static import loaded the NATS client into all of them. Beside hdr-histogram-js (the bundle's
 * shared chunk) it left the stream scenarios' consumer and provider with ~1.5 MB more heap, and
 * those ran 40-56 mark-compacts per 1 GiB instead of 8-9 and Switchyard's stream1GiB 15-20% slower
 * (issue 14); a peer carries only its own role's code.
 */
export async function runNatsResponder(args: { servers: string; subjects: string[]; caFile?: string }): Promise<void> {
  const { connect } = await import("nats");
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
