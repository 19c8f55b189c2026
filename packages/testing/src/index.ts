// Test fixtures shared by every package's integration tests (private: never published).
// Servers a test starts through these are closed after it, and a server that still holds a
// connection then fails the test (ConnectionLeakError).

// The broker's wire: a hand-driven client, and brokers that play the server side.
export { RawClient } from "./raw-client.js";
export type { RegisterOptions } from "./raw-client.js";
export { FakeBroker, FakePeer } from "./fake-broker.js";
export type { Received } from "./fake-broker.js";
export { FROZEN_CLIENT_OPTIONS, FROZEN_CLOSE_BOUND_MS, FrozenBroker } from "./frozen-broker.js";

// The broker as a user runs it: through its CLI, in its own process.
export { BROKER_BIN, spawnBroker, useBrokerProcesses, START_TIMEOUT_MS } from "./broker-process.js";
export type { BrokerProcess, BrokerProcesses, Listening } from "./broker-process.js";

// Servers that fail the test which leaves a connection open.
export { TrackedServer } from "./tracked-server.js";
export type { TrackedServerOptions } from "./tracked-server.js";
export { brokerLeakCheck, closeCheckingLeaks, ConnectionLeakError, handlesOpenedSince, LEAK_GRACE_MS, openHandles } from "./leak-check.js";
export type { CountsConnections, LeakCheckable } from "./leak-check.js";
export { closeAfterTest, onCleanup, runCleanups } from "./cleanup.js";

// anet: a raw server driven frame by frame.
export { replyAnet, startRawAnetServer } from "./raw-anet-server.js";
export type { RawAnetServer } from "./raw-anet-server.js";

// Bodies that show a byte out of place, and a handler that waits for its abort.
export { answerWhenAborted, digestOf, digestOfBytes, inPieces, MiB, patterned, patternMismatch, randomBody, sha256 } from "./bodies.js";

// Sockets, addresses, outcomes, certificates.
export { Loopback, received, until } from "./loopback.js";
export { refusingAddress } from "./refusing-address.js";
export { codes, outcomes, rejection } from "./outcomes.js";
export { makeTestCertificates } from "./test-certificates.js";
export type { KeyPair, TestCertificates } from "./test-certificates.js";
