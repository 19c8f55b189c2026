import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FrameType, newId } from "@switchyard/protocol";
import { RawClient, useBrokerProcesses } from "@switchyard/testing";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** With SWITCHYARD_SCREENSHOT=1 the screenshot replaces the README's (docs/status-page.png). */
const screenshotPath = process.env.SWITCHYARD_SCREENSHOT === "1" ? path.join(repoRoot, "docs", "status-page.png") : path.join(tmpdir(), "switchyard-status-page.png");
const TOKEN = "page-token";

const { run } = useBrokerProcesses();
let userDataDir: string;
let browser: BrowserContext;

beforeAll(() => {
  // a fresh machine: installs Debian's chromium (root), else says how
  if (!existsSync(CHROMIUM)) execFileSync("bash", [path.join(repoRoot, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
  userDataDir = mkdtempSync(path.join(tmpdir(), "switchyard-chromium-"));
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
});

/** Answers every request on the provider until stopped; sends one every few ms from the consumer. */
function steadyTraffic(provider: RawClient, consumer: RawClient): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const id = consumer.request("ping");
      provider.respond(await provider.nextOf(FrameType.START), "pong");
      await consumer.nextOf(FrameType.RESPONSE, id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function number(text: string | null): Promise<number> {
  return Number((text ?? "").replaceAll(",", ""));
}

describe("the status page", () => {
  it("shows, in a real browser under a strict CSP, numbers that move with the traffic and match /status", { timeout: 120_000 }, async () => {
    const broker = run(["--port", "0", "--monitor", "127.0.0.1:0", "--monitor-token", TOKEN, "--log-level", "warn"]);
    await expect.poll(() => broker.stdout().split("\n").length, { timeout: 10_000 }).toBe(3);
    const [, port, monitor] = /listening on 127\.0\.0\.1:(\d+)\n.*monitoring on (http:\/\/\S+)\n$/s.exec(broker.stdout())!;
    const channelId = newId();
    const provider = await (await RawClient.open(Number(port))).register({ role: "provider", channelId, capacity: 4, clientName: "page-provider" });
    const consumer = await (await RawClient.open(Number(port))).register({ role: "consumer", channelId, clientName: "page-consumer" });
    const traffic = steadyTraffic(provider, consumer);
    // three requests the broker refuses itself: the page lists errors by code
    const lonely = await (await RawClient.open(Number(port))).register({ role: "consumer", channelId: newId(), clientName: "lonely" });
    for (let i = 0; i < 3; i++) expect((await lonely.nextError(lonely.request("anyone?"))).code).toBe("NO_PROVIDER");

    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      viewport: { width: 1280, height: 1000 },
    });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const response = await page.goto(`${monitor}/#token=${TOKEN}`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()["content-security-policy"]).toMatch(/script-src 'self'/);

    // the numbers move while requests flow
    const requests = page.locator("#requests");
    await expect.poll(async () => number(await requests.textContent()), { timeout: 20_000 }).toBeGreaterThan(0);
    const first = await number(await requests.textContent());
    await expect.poll(async () => number(await requests.textContent()), { timeout: 20_000 }).toBeGreaterThan(first);
    await expect.poll(async () => number(await page.locator("#rate").textContent()), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(async () => page.locator("#channels td").first().textContent(), { timeout: 20_000 }).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.locator("#busiest").textContent()).toMatch(/page-provider|page-consumer/);
    expect(await page.locator("#rate-chart canvas").count()).toBe(1);
    expect(await page.locator("#state").textContent()).toBe("listening");
    await expect.poll(async () => page.locator("#errors").textContent(), { timeout: 20_000 }).toBe("NO_PROVIDER3");
    // for the README's picture, let the charts fill a little
    if (process.env.SWITCHYARD_SCREENSHOT === "1") await new Promise((resolve) => setTimeout(resolve, 45_000));
    await page.screenshot({ path: screenshotPath, fullPage: true });

    // once the traffic stops, the page settles on exactly what /status says
    await traffic.stop();
    const statusNow = async () =>
      ((await (await fetch(`${monitor}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { stats: { requests: number; completed: number; connections: number } }).stats;
    expect((await statusNow()).requests).toBeGreaterThan(first);
    // a request the traffic left in flight may still complete: compare once both sides have it
    const onPage = async () => ({
      requests: await number(await requests.textContent()),
      completed: await number(await page.locator("#completed").textContent()),
      connections: await number(await page.locator("#connections").textContent()),
    });
    await expect
      .poll(async () => {
        const { requests, completed, connections } = await statusNow();
        return { page: await onPage(), status: { requests, completed, connections } };
      }, { timeout: 20_000 })
      .toSatisfy(({ page: shown, status }) => JSON.stringify(shown) === JSON.stringify(status));
    expect(problems).toEqual([]);
  });

  it("without the token in the fragment, the page says the monitor refused it", async () => {
    const broker = run(["--port", "0", "--monitor", "127.0.0.1:0", "--monitor-token", TOKEN, "--log-level", "warn"]);
    await expect.poll(() => broker.stdout().split("\n").length, { timeout: 10_000 }).toBe(3);
    const [, monitor] = /monitoring on (http:\/\/\S+)\n$/.exec(broker.stdout())!;
    browser ??= await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    const page = await browser.newPage();
    await page.goto(`${monitor}/`);
    await expect.poll(async () => page.locator("#problem").textContent(), { timeout: 20_000 }).toMatch(/HTTP 401/);
    expect(await page.locator("#state").textContent()).toBe("unreachable");
  });
});
