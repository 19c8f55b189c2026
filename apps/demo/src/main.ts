import { runAnetDemo } from "./anet-demo.js";
import { runBrokerDemo } from "./broker-demo.js";
import { startBrokerProcess } from "./broker-process.js";
import { runFleetDemo } from "./fleet-demo.js";

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  log("Switchyard demo\n");
  log("▶ starting switchyard-broker (its own process, through the CLI)");
  const broker = await startBrokerProcess();
  log(`  listening on ${broker.address}\n`);
  try {
    log("▶ broker: consumers ⇄ broker ⇄ providers");
    await runBrokerDemo(broker.address, log);
  } finally {
    await broker.stop();
    log("  broker stopped\n");
  }
  log("▶ anet: pipelined requests over a pool of 5 connections");
  await runAnetDemo(log);
  log("\n▶ a fleet: three brokers, providers on every one, consumers spread; one broker killed and restarted");
  await runFleetDemo(log);
  log("\nDemo finished: every check passed.");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
