import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type DockerStage, ignoreRules } from "./dockerfile-checks.js";

/**
 * RUN lines of the build stage that are not run here, and why: `npm install -g pnpm@10` would
 * install pnpm for the whole machine (here the README's set-up has done just that already).
 */
export const NOT_RUN_HERE = ["npm install -g pnpm@10"];

/** The build context Docker would send: the repository's tracked files that .dockerignore lets through. */
export function buildContext(root: string, ignoreText: string): string[] {
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  return ignoreRules(ignoreText).filter(tracked);
}

/**
 * Runs a Dockerfile's build stage on this machine, as the builder would in a container, with the
 * image's filesystem at `fs`: ENV, WORKDIR, COPY from the context (`files`, relative to `root`)
 * and every RUN but those of NOT_RUN_HERE, through `sh -c`, in order. A RUN whose words name an
 * absolute path (outside its WORKDIR) is refused rather than let write to this machine's /, except
 * the last word of `pnpm … deploy DIR`, which is moved under `fs`: the image's path P is `fs` + P.
 */
export function runBuildStage(stage: DockerStage, root: string, files: readonly string[], fs: string): void {
  // A clean environment, as in a container (not the npm_config_* and TURBO_* of the test's
  // runner), with this repository's pnpm store: the one its install filled, which the build
  // stage's --offline install reads, even if the scratch directory is on another filesystem.
  const store = path.dirname(execFileSync("pnpm", ["store", "path"], { cwd: root, encoding: "utf8" }).trim());
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", npm_config_store_dir: store };
  let workdir = fs;
  for (const instruction of stage.instructions) {
    const { keyword, args } = instruction;
    if (keyword === "ENV") {
      for (const pair of args) env[pair.slice(0, pair.indexOf("="))] = pair.slice(pair.indexOf("=") + 1);
    } else if (keyword === "WORKDIR") {
      workdir = path.join(fs, args[0]!);
      mkdirSync(workdir, { recursive: true });
    } else if (keyword === "COPY") {
      if (instruction.flags.from !== undefined) throw new Error(`line ${instruction.line}: COPY --from in the build stage is not modelled here`);
      const destination = path.join(workdir, args.at(-1)!);
      for (const source of args.slice(0, -1)) {
        // A file lands in the destination; a directory's contents do ("." is the whole context).
        const prefix = path.posix.normalize(source).replace(/^\.\/?$/, "").replace(/\/$/, "");
        const selected = files.filter((file) => prefix === "" || file === prefix || file.startsWith(`${prefix}/`));
        if (selected.length === 0) throw new Error(`line ${instruction.line}: COPY ${source}: not in the build context`);
        for (const file of selected) {
          const target = path.join(destination, file === prefix ? path.basename(file) : file.slice(prefix === "" ? 0 : prefix.length + 1));
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(path.join(root, file), target);
        }
      }
    } else if (keyword === "RUN") {
      const command = args.join(" ");
      if (NOT_RUN_HERE.includes(command)) continue;
      const words = [...args];
      if (words[0] === "pnpm" && words.includes("deploy")) words[words.length - 1] = path.join(fs, words.at(-1)!);
      else if (words.some((word) => word.startsWith("/"))) throw new Error(`line ${instruction.line}: RUN ${command} names an absolute path; teach build-stage.ts where it goes`);
      const ran = spawnSync("sh", ["-c", words.join(" ")], { cwd: workdir, env, encoding: "utf8" });
      if (ran.status !== 0) throw new Error(`line ${instruction.line}: RUN ${command} exited ${ran.status ?? ran.signal}:\n${ran.stdout}${ran.stderr}`.trimEnd());
    } else if (keyword !== "ARG") {
      throw new Error(`line ${instruction.line}: ${keyword} in the build stage is not modelled here`);
    }
  }
}
