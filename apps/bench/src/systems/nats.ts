import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "nats";
import { startChild } from "../proc/child-process.js";
import { findExecutable } from "../proc/locate.js";
import { MIB } from "../scenarios.js";
import { startPeer } from "./start-peer.js";
import { type BenchSystem, lanesOver, measured, prepareWith } from "./system.js";

/** nats-server's largest message, raised from its 1 MB default so 1 MiB bodies (plus headers) fit. */
export const NATS_MAX_PAYLOAD_BYTES = 2 * MIB;

/** How to get nats-server, printed when it is missing. */
export const NATS_INSTALL_HINT = "install it with `apt-get install nats-server` (Debian/Ubuntu) or put a nats-server binary on PATH";

/**
 * NATS request-reply: a `nats-server` started here with `max_payload` raised, a child process of
 * queue-group responders (one connection per subject), and nats.js clients with `noAsyncTraces`;
 * `secure`: the server has a `tls {}` block with the run's certificate and every client trusts its CA.
 */
function natsSystem(secure: boolean): BenchSystem {
  return {
  name: secure ? "nats-tls" : "nats",
  label: secure ? "NATS TLS" : "NATS",
  unavailable: async (context) => {
    if (!findExecutable("nats-server")) return `nats-server not found; ${NATS_INSTALL_HINT}`;
    return secure && context.tls === undefined ? "TLS systems run with --tls" : undefined;
  },
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const dir = cleanup.add(await mkdtemp(path.join(tmpdir(), "bench-nats-")), (d) => rm(d, { recursive: true, force: true }));
      const config = path.join(dir, "nats.conf");
      const tls = secure ? context.tls! : undefined;
      const tlsBlock = tls === undefined ? "" : `tls {\n  cert_file: ${JSON.stringify(tls.certFile)}\n  key_file: ${JSON.stringify(tls.keyFile)}\n}\n`;
      await writeFile(config, `max_payload: ${NATS_MAX_PAYLOAD_BYTES}\n${tlsBlock}`);
      const clientTls = tls === undefined ? {} : { tls: { caFile: tls.caFile } };
      const server = await startChild({
        role: "nats-server",
        command: findExecutable("nats-server")!,
        args: ["-a", "127.0.0.1", "-p", "-1", "-c", config],
        ready: /Listening for client connections on (\S+):(\d+)/,
        maxOpenFiles: shape.connections + 1024,
      });
      cleanup.add(server, (s) => s.stop());
      const servers = `127.0.0.1:${server.ready[2]}`;
      const subjects = Array.from({ length: shape.channels }, (_, i) => `bench.echo.${i}`);
      const responder = cleanup.add(await startPeer(context, "nats-responder", { servers, subjects, caFile: tls?.caFile }), (p) => p.child.stop());
      const clients = await Promise.all(
        Array.from({ length: shape.connections }, async (_, i) => {
          const nc = cleanup.add(await connect({ servers, noAsyncTraces: true, ...clientTls }), (c) => c.close());
          return { nc, subject: subjects[i % subjects.length]! };
        }),
      );
      const lanes = lanesOver(clients, shape.inflight, async ({ nc, subject }, body) => {
        const reply = await nc.request(subject, body, { timeout: context.requestTimeoutMs });
        return reply.data;
      });
      return { lanes, server: measured("nats-server", server), others: [measured("responders", responder.child)] };
    }),
  };
}

/** NATS over plaintext TCP. */
export const nats = natsSystem(false);
/** NATS with a `tls {}` block, every client over TLS (--tls runs). */
export const natsTls = natsSystem(true);
