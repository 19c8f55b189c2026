import { pino } from "pino";
import { BrokerServer } from "./broker-server.js";
import { parseCli, type CliSettings, usage } from "./cli-options.js";

/** `host:port`, with IPv6 hosts in brackets. */
function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The `switchyard-broker` command: reads flags and SWITCHYARD_* variables, starts a BrokerServer,
 * prints one line with its address on stdout, logs with pino to stderr, and on SIGINT/SIGTERM
 * drains and exits 0 (a second signal exits at once with 1).
 */
async function main(): Promise<void> {
  let settings: CliSettings;
  try {
    settings = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`switchyard-broker: ${(error as Error).message}\nRun switchyard-broker --help for the options.\n`);
    process.exit(2);
  }
  if (settings.help) {
    process.stdout.write(usage());
    return;
  }
  const logger = pino({ name: "switchyard-broker", level: settings.logLevel }, pino.destination({ dest: 2, sync: true }));
  let server: BrokerServer;
  try {
    server = new BrokerServer({ ...settings.options, logger });
    await server.start();
  } catch (error) {
    logger.fatal({ err: error }, "broker failed to start");
    process.stderr.write(`switchyard-broker: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const { host, port } = server.address();
  process.stdout.write(`switchyard-broker listening on ${formatAddress(host, port)}\n`);

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
