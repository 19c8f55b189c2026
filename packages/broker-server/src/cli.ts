import { InvalidArgumentError } from "@switchyard/protocol";
import { formatHostPort } from "@switchyard/transport/internal";
import { pino } from "pino";
import { BrokerServer } from "./broker-server.js";
import { reloadOnHangup, tlsNote, withFiles } from "./cli-files.js";
import { parseCli, type CliSettings, UsageError, usage } from "./cli-options.js";
import { BROKER_VERSION } from "./version.js";

/** Exit code of a bad flag, variable or value: the command line is wrong. */
const EXIT_USAGE = 2;
/** Exit code of a start-up failure (port in use, …): the command line was fine, the world was not. */
const EXIT_FAILED = 1;

/**
 * Reports `error` as the one line the CLI prints on stderr and exits: a caller's mistake (a
 * UsageError, or an option the server refuses) with 2 and a pointer to --help, anything else with 1.
 */
function exitWith(error: unknown): never {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
  if (error instanceof UsageError || error instanceof InvalidArgumentError) {
    process.stderr.write(`switchyard-broker: ${message} (switchyard-broker --help lists the options)\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`switchyard-broker: ${message}\n`);
  process.exit(EXIT_FAILED);
}

/**
 * The `switchyard-broker` command: reads flags and SWITCHYARD_* variables, starts a BrokerServer,
 * prints one line with its address on stdout, logs with pino to stderr, and on SIGINT/SIGTERM
 * drains and exits 0 (a second signal exits at once with 1). A bad flag or value is one line on
 * stderr and exit 2; a failure to start (port in use, …) one line and exit 1.
 */
async function main(): Promise<void> {
  let settings: CliSettings;
  try {
    settings = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    exitWith(error);
  }
  if (settings.help) {
    process.stdout.write(usage());
    return;
  }
  if (settings.version) {
    process.stdout.write(`${BROKER_VERSION}\n`);
    return;
  }
  const logger = pino({ name: "switchyard-broker", level: settings.logLevel }, pino.destination({ dest: 2, sync: true }));
  let server: BrokerServer;
  try {
    server = new BrokerServer({ ...withFiles(settings.options, settings.files), logger });
    await server.start();
  } catch (error) {
    exitWith(error);
  }
  process.stdout.write(`switchyard-broker listening on ${formatHostPort(server.address())}${tlsNote(server)}\n`);
  const monitor = server.monitorAddress();
  if (monitor !== null) process.stdout.write(`switchyard-broker monitoring on http://${formatHostPort(monitor)}\n`);
  reloadOnHangup(server, settings.files, logger);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without finishing the drain");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "signal received: draining");
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "drain failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

void main();
