import { anet } from "./anet.js";
import { nats, natsTls } from "./nats.js";
import { rawEcho } from "./raw-echo.js";
import { rawRelay } from "./raw-relay.js";
import { switchyard, switchyardFleet, switchyardMonitored, switchyardSharded, switchyardTls } from "./switchyard.js";
import type { BenchSystem, SystemName } from "./system.js";
import { zeromq } from "./zeromq.js";

/** Every system, by name. */
export const SYSTEMS: Readonly<Record<SystemName, BenchSystem>> = {
  switchyard,
  "switchyard-tls": switchyardTls,
  "switchyard-monitored": switchyardMonitored,
  "switchyard-fleet": switchyardFleet,
  "switchyard-sharded": switchyardSharded,
  anet,
  nats,
  "nats-tls": natsTls,
  zeromq,
  "raw-relay": rawRelay,
  "raw-echo": rawEcho,
};

/** Every system name, ours first. */
export const SYSTEM_NAMES = Object.keys(SYSTEMS) as SystemName[];
