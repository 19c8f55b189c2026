import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { useBrokerProcesses } from "@switchyard/testing";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { afterAll, describe, expect, it } from "vitest";
import { readArgs } from "./broker-cli.js";
import { buildContext, NOT_RUN_HERE, runBuildStage } from "./build-stage.js";
import { dockerfileProblems, dockerignoreProblems, readStages } from "./dockerfile-checks.js";
import { buildKustomization } from "./kustomization.js";

const ROOT = path.join(import.meta.dirname, "..", "..");
const DOCKERFILE = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
const DOCKERIGNORE = readFileSync(path.join(ROOT, ".dockerignore"), "utf8");
/** Tracked files the image does not need, left out of the build context on purpose. */
const NOT_NEEDED = ["docs/", "bench-results/"];

/** The Dockerfile with the whole line `from` replaced by `to`; fails if the line is not there. */
function edited(from: string, to: string): string {
  expect(DOCKERFILE.split("\n")).toContain(from);
  return DOCKERFILE.replace(`${from}\n`, `${to}\n`);
}

const problemsOf = (dockerfile: string, ignore = DOCKERIGNORE) => dockerfileProblems(dockerfile, ROOT, ignore).problems.join("\n");

describe("Dockerfile and .dockerignore", () => {
  it("pass dockerfile-utils' lint and the image's rules: two stages on node:22, only the deployed broker, non-root, exec-form ENTRYPOINT", () => {
    const { problems, deploy } = dockerfileProblems(DOCKERFILE, ROOT, DOCKERIGNORE);
    expect(problems).toEqual([]);
    expect(deploy).toMatchObject({ command: expect.arrayContaining(["pnpm", "deploy", "--prod"]), installedAt: "/opt/switchyard-broker", entrypoint: "bin/switchyard-broker.js", nodeFlags: ["--initial-old-space-size=64"] });
  });

  it("let every tracked file the build needs into the context, and keep node_modules, dist and .git out", () => {
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    const needed = tracked.filter((file) => !NOT_NEEDED.some((dir) => file.startsWith(dir)));
    expect(needed).toEqual(expect.arrayContaining(["pnpm-lock.yaml", "packages/broker-server/src/cli.ts", "packages/broker-server/bin/switchyard-broker.js", "tsup.base.ts"]));
    expect(dockerignoreProblems(DOCKERIGNORE, needed)).toEqual([]);
    expect(dockerignoreProblems(`${DOCKERIGNORE}\n**/src\n`, needed).join("\n")).toMatch(/leaves out packages\/broker-server\/src\/cli\.ts, which the build needs/);
    expect(dockerignoreProblems(DOCKERIGNORE.replace("**/dist\n", ""), needed).join("\n")).toMatch(/lets packages\/protocol\/dist\/index\.js into the build context/);
    expect(dockerignoreProblems(DOCKERIGNORE.replace("**/node_modules\n", "node_modules\n"), needed).join("\n")).toMatch(/lets packages\/protocol\/node_modules\/x\/index\.js into/);
  });

  it("the checks name each broken rule", () => {
    const entrypoint = 'ENTRYPOINT ["node", "--initial-old-space-size=64", "/opt/switchyard-broker/bin/switchyard-broker.js"]';
    expect(problemsOf(edited(entrypoint, "ENTRYPOINT switchyard-broker"))).toMatch(/exec form .* SIGTERM never reaches the broker/);
    expect(problemsOf(edited(entrypoint, 'ENTRYPOINT ["switchyard-broker"]'))).toMatch(/does not run node --initial-old-space-size=64 on the broker/);
    expect(problemsOf(edited(entrypoint, 'ENTRYPOINT ["node", "/opt/switchyard-broker/bin/switchyard-broker.js"]'))).toMatch(/does not run node --initial-old-space-size=64/);
    expect(problemsOf(edited(entrypoint, 'ENTRYPOINT ["node", "--initial-old-space-size=64", "switchyard-broker"]'))).toBe("");
    expect(problemsOf(edited("USER 1000:1000", "USER node"))).toMatch(/USER node: give a numeric user other than 0/);
    expect(problemsOf(edited("USER 1000:1000", "USER 0"))).toMatch(/USER 0: give a numeric user other than 0/);
    expect(problemsOf(edited("USER 1000:1000", ""))).toMatch(/the run stage has no USER/);
    expect(problemsOf(edited("RUN pnpm --filter @switchyard/broker-server deploy --prod --legacy --prefer-offline /out", "RUN pnpm --filter @switchyard/broker-server deploy --legacy --prefer-offline /out"))).toMatch(/without --prod/);
    expect(problemsOf(edited("ENV NODE_ENV=production", "ENV NODE_ENV=production\nCOPY packages packages"))).toMatch(/the run stage copies packages from the build context/);
    expect(problemsOf(edited("ARG NODE_IMAGE=node:22-bookworm-slim", "ARG NODE_IMAGE=node:20-bookworm-slim"))).toMatch(/the build stage is node:20-bookworm-slim, not a node:22 image/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG reference
    expect(problemsOf(edited("FROM ${NODE_IMAGE}", "FROM node:24-bookworm-slim"))).toMatch(/the run stage is node:24-bookworm-slim, the build stage node:22-bookworm-slim/);
    expect(problemsOf(edited("COPY --from=build /out /opt/switchyard-broker", "COPY --from=build /out /srv/broker"))).toMatch(/ENTRYPOINT \/opt\/switchyard-broker\/bin\/switchyard-broker\.js is neither in \/srv\/broker nor linked to it/);
    expect(problemsOf(edited("COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./", "COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .yarnrc ./"))).toMatch(/COPY \.yarnrc: no such file in the build context/);
    expect(problemsOf(DOCKERFILE, `${DOCKERIGNORE}\n.npmrc\n`)).toMatch(/COPY \.npmrc: \.dockerignore leaves it out/);
    expect(problemsOf(edited("EXPOSE 9090 9091", "EXPOSE 9090 monitor"))).toMatch(/Invalid containerPort: monitor/);
    expect(problemsOf(edited("WORKDIR /src", "WORKDIR"))).toMatch(/line \d+: .*argument/i);
  });
});

describe("the image's broker, built as the Dockerfile builds it", () => {
  it("a build stage that would fail fails here: a failing RUN, a COPY of what the context lacks, a RUN that would write outside", () => {
    const fs = mkdtempSync(path.join(os.tmpdir(), "switchyard-stage-"));
    try {
      const stage = (text: string) => readStages(`FROM node:22-bookworm-slim AS build\nWORKDIR /src\n${text}\n`)[0]!;
      const context = buildContext(ROOT, DOCKERIGNORE);
      expect(() => runBuildStage(stage("RUN pnpm --version && false"), ROOT, context, fs)).toThrow(/RUN pnpm --version && false exited 1/);
      expect(() => runBuildStage(stage("COPY pnpm-lock.yaml ./"), ROOT, buildContext(ROOT, `${DOCKERIGNORE}\npnpm-lock.yaml\n`), fs)).toThrow(/COPY pnpm-lock\.yaml: not in the build context/);
      expect(() => runBuildStage(stage("RUN rm -rf /usr/local/lib/node_modules"), ROOT, context, fs)).toThrow(/names an absolute path/);
      runBuildStage(stage("COPY packages/protocol ./protocol\nRUN test -f protocol/package.json"), ROOT, context, fs);
    } finally {
      rmSync(fs, { recursive: true, force: true });
    }
  }, 120_000); // four builds of the context and three pnpm runs: a loaded machine has taken over 30 s


  // Made by the test itself, so that a run that skips it leaves nothing behind.
  const scratch = path.join(os.tmpdir(), `switchyard-image-${process.pid}-${Date.now()}`);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const { deploy } = dockerfileProblems(DOCKERFILE, ROOT, DOCKERIGNORE);
  /** The image's filesystem, here. */
  const fs = path.join(scratch, "image");
  const brokers = useBrokerProcesses(path.join(fs, deploy!.output, deploy!.entrypoint), deploy!.nodeFlags);

  it("runs the build stage on the build context, starts the deployed broker with the StatefulSet's flags, answers the probes and drains on SIGTERM within the grace period", async () => {
    // The build stage's own instructions, on the context .dockerignore lets through, in a scratch
    // directory that stands for the image's filesystem: install from the lockfile, build, deploy.
    mkdirSync(scratch);
    const build = readStages(DOCKERFILE)[0]!;
    const run = build.instructions.filter((instruction) => instruction.keyword === "RUN").map((instruction) => instruction.args.join(" "));
    expect(run.filter((command) => !NOT_RUN_HERE.includes(command))).toEqual(expect.arrayContaining([expect.stringMatching(/^pnpm install --frozen-lockfile/), expect.stringMatching(/ deploy /)]));
    runBuildStage(build, ROOT, buildContext(ROOT, DOCKERIGNORE), fs);
    const out = path.join(fs, deploy!.output);
    const workdir = build.instructions.findLast((instruction) => instruction.keyword === "WORKDIR")!.args[0]!;
    expect(existsSync(path.join(fs, workdir, "packages", "broker-server", "dist", "cli.js"))).toBe(true);

    // Production dependencies only: the broker's devDependencies (the status page's bundler, the
    // browser driver of its test, …) are not in the image.
    const packages = readdirSync(path.join(out, "node_modules", ".pnpm"));
    for (const dev of ["esbuild", "playwright-core", "uplot", "parse-prometheus-text-format", "vitest"]) {
      expect(packages.filter((name) => name.startsWith(`${dev}@`)), dev).toEqual([]);
    }
    expect(packages.some((name) => name.startsWith("pino@"))).toBe(true);
    const entrypoint = path.join(out, deploy!.entrypoint);
    accessSync(entrypoint, constants.X_OK);
    expect(existsSync(path.join(out, "dist", "cli.js"))).toBe(true);

    // The container's command line: the image's ENTRYPOINT with the StatefulSet's args, moved to
    // loopback and free ports (a test must not take 9090 on a shared machine).
    const statefulSet = buildKustomization(path.join(ROOT, "deploy", "kubernetes", "base")).find((object) => object.kind === "StatefulSet") as IStatefulSet;
    const container = statefulSet.spec!.template.spec!.containers[0]!;
    const loopback: Record<string, string> = { "--host": "127.0.0.1", "--port": "0", "--monitor": "127.0.0.1:0" };
    const args = readArgs(container.args!).args.flatMap(({ flag, value }) => (value === undefined ? [flag] : [flag, loopback[flag] ?? value]));
    expect(args.filter((_, index) => args[index - 1] === "--host" || args[index - 1] === "--port" || args[index - 1] === "--monitor").sort()).toEqual(["0", "127.0.0.1", "127.0.0.1:0"]);
    const broker = brokers.run(args, { NODE_ENV: "production" });
    const listening = await broker.listening();
    expect(listening.host).toBe("127.0.0.1");
    await expect.poll(() => /monitoring on (http:\S+)/.exec(broker.stdout())?.[1], { timeout: 10_000 }).toBeDefined();
    const monitor = /monitoring on (http:\S+)/.exec(broker.stdout())![1]!;
    expect((await fetch(`${monitor}/livez`)).status).toBe(200);
    expect((await fetch(`${monitor}/readyz`)).status).toBe(200);

    // SIGTERM: it drains and exits 0 before the kubelet's SIGKILL (stop() kills it and throws if not).
    const graceMs = statefulSet.spec!.template.spec!.terminationGracePeriodSeconds! * 1000;
    expect(await broker.stop(graceMs)).toBe(0);
    expect(broker.stderr()).toMatch(/"msg":"broker stopped"/);
  }, 300_000);
});
