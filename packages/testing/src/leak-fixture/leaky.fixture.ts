// Run by cleanup.test.ts in a vitest of its own: a test that leaves a client connected to a server
// it registered with closeAfterTest(), and a test that closes its client. The first must fail.
import { connect } from "node:net";
import { expect, it } from "vitest";
import { closeAfterTest } from "../cleanup.js";
import { TrackedServer } from "../tracked-server.js";

it("leaks a connection", async () => {
  const server = closeAfterTest(await TrackedServer.listen(() => {}, { name: "fixture server" }), 200);
  connect({ port: server.port, host: "127.0.0.1" }).on("error", () => {});
  await expect.poll(() => server.openConnections()).toBe(1);
});

it("closes its connection", async () => {
  const server = closeAfterTest(await TrackedServer.listen(() => {}, { name: "fixture server" }), 2000);
  const socket = connect({ port: server.port, host: "127.0.0.1" });
  await expect.poll(() => server.openConnections()).toBe(1);
  socket.end();
});
