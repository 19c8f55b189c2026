import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { DockerfileParser, type Instruction, type JSONInstruction, type ModifiableInstruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { BROKER_HEAP_FLAG, brokerCommand } from "./broker-cli.js";

// A CommonJS module whose types say `export default`: required, so the types and Node agree.
const dockerignore = createRequire(import.meta.url)("@balena/dockerignore") as typeof import("@balena/dockerignore").default;

/** The rules of a .dockerignore, read as Docker reads them (@balena/dockerignore). */
export function ignoreRules(ignoreText: string): ReturnType<typeof dockerignore> {
  return dockerignore().add(ignoreText.split("\n"));
}

/** One instruction, its words as Docker reads them. */
export interface DockerInstruction {
  keyword: string;
  /** The words after the keyword (flags such as --from=build not included). */
  args: string[];
  /** `--from=build` → { from: "build" }. */
  flags: Record<string, string | null>;
  /** The exec (JSON array) form's strings; undefined in shell form. */
  exec: string[] | undefined;
  line: number;
}

/** One build stage: its FROM image (ARG defaults substituted), its name, its instructions. */
export interface DockerStage {
  image: string;
  name: string | undefined;
  instructions: DockerInstruction[];
}

/** Reads a Dockerfile into stages with dockerfile-ast (the parser of VS Code's Docker support). */
export function readStages(text: string): DockerStage[] {
  const dockerfile = DockerfileParser.parse(text);
  const defaults = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property !== null) defaults.set(property.getName(), property.getValue() ?? "");
  }
  const stages: DockerStage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const read = describe(instruction);
    if (read.keyword === "FROM") {
      const image = read.args[0]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => defaults.get((braced ?? bare)!) ?? "");
      stages.push({ image, name: read.args[1]?.toUpperCase() === "AS" ? read.args[2] : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(read);
    }
  }
  return stages;
}

function describe(instruction: Instruction): DockerInstruction {
  const flagged = instruction as Partial<ModifiableInstruction>;
  const flags = Object.fromEntries((flagged.getFlags?.() ?? []).map((flag) => [flag.getName(), flag.getValue()]));
  const json = (instruction as Partial<JSONInstruction>).getJSONStrings?.() ?? [];
  return {
    keyword: instruction.getKeyword(),
    args: instruction.getArguments().map((argument) => argument.getValue()),
    flags,
    exec: json.length > 0 ? json.map((string) => string.getJSONValue()) : undefined,
    line: instruction.getRange().start.line + 1,
  };
}

/** The numeric user the final stage runs as (its last USER, `uid` or `uid:gid`), undefined if none or a name. */
export function imageUid(stages: readonly DockerStage[]): number | undefined {
  const user = stages.at(-1)?.instructions.findLast((instruction) => instruction.keyword === "USER")?.args[0];
  return user !== undefined && /^\d+(:\d+)?$/.test(user) ? Number(user.split(":")[0]) : undefined;
}

/** The build stage's `pnpm … deploy … DIR` command and where the final stage copies DIR to. */
export interface DeployStep {
  /** The RUN's words, `pnpm` first. */
  command: string[];
  /** The directory the deploy writes, in the build stage. */
  output: string;
  /** Where the final stage copies it. */
  installedAt: string;
  /** The ENTRYPOINT's program, as a path inside `output`. */
  entrypoint: string;
  /** The Node flags the ENTRYPOINT runs it under. */
  nodeFlags: string[];
}

/**
 * Everything a Dockerfile of the broker must get right that `docker build` cannot be asked about
 * here (no engine runs on these machines): dockerfile-utils' lint (what the Docker builder would
 * refuse), a build stage and a run stage on the same node:22 image, a run stage that takes only
 * the deployed broker from the build stage, runs it as a numeric non-root user and starts it in
 * exec form (so SIGTERM reaches Node and the drain runs) under the broker's heap flag, COPY sources that exist and that
 * .dockerignore lets through. Returns the problems and, when it found one, the deploy step.
 */
export function dockerfileProblems(text: string, context: string, ignoreText: string): { problems: string[]; deploy: DeployStep | undefined } {
  const problems = validate(text).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
  const stages = readStages(text);
  if (stages.length < 2) return { problems: [...problems, `${stages.length} stage(s): build in one stage, run in another`], deploy: undefined };
  const build = stages[0]!;
  const run = stages.at(-1)!;
  if (!/^node:22(\.|-|$)/.test(build.image)) problems.push(`the build stage is ${build.image}, not a node:22 image`);
  if (run.image !== build.image) problems.push(`the run stage is ${run.image}, the build stage ${build.image}: the same Node must run what was built`);

  const ignored = ignoreRules(ignoreText);
  for (const stage of stages) {
    for (const copy of stage.instructions.filter((instruction) => instruction.keyword === "COPY" || instruction.keyword === "ADD")) {
      if (copy.flags.from !== undefined) continue;
      if (stage === run) problems.push(`line ${copy.line}: the run stage copies ${copy.args.slice(0, -1).join(" ")} from the build context; it should take only the deployed broker from the build stage`);
      for (const source of copy.args.slice(0, -1)) {
        const normalized = path.posix.normalize(source);
        const relative = normalized === "." || normalized === "./" ? "" : normalized.replace(/^\.\//, "");
        if (!existsSync(path.join(context, source))) problems.push(`line ${copy.line}: COPY ${source}: no such file in the build context`);
        else if (relative !== "" && ignored.ignores(relative)) problems.push(`line ${copy.line}: COPY ${source}: .dockerignore leaves it out of the build context`);
      }
    }
  }

  const user = run.instructions.findLast((instruction) => instruction.keyword === "USER");
  if (user === undefined) problems.push("the run stage has no USER: it would run as root");
  else if (imageUid(stages) === undefined || imageUid(stages) === 0) problems.push(`USER ${user.args[0]}: give a numeric user other than 0, so that Kubernetes' runAsNonRoot can check it`);

  const entrypoint = run.instructions.findLast((instruction) => instruction.keyword === "ENTRYPOINT");
  if (entrypoint?.exec === undefined) problems.push("the ENTRYPOINT must be in exec form ([\"switchyard-broker\"]): in shell form /bin/sh is PID 1 and SIGTERM never reaches the broker");

  const deployRun = build.instructions.find((instruction) => instruction.keyword === "RUN" && instruction.args[0] === "pnpm" && instruction.args.includes("deploy"));
  if (deployRun === undefined) return { problems: [...problems, "the build stage has no RUN pnpm … deploy"], deploy: undefined };
  if (!deployRun.args.includes("--prod")) problems.push(`line ${deployRun.line}: pnpm deploy without --prod puts devDependencies in the image`);
  const output = deployRun.args.at(-1)!;
  const copied = run.instructions.find((instruction) => instruction.keyword === "COPY" && instruction.flags.from === build.name && instruction.args[0] === output);
  if (copied === undefined) return { problems: [...problems, `the run stage does not COPY --from=${build.name} ${output}`], deploy: undefined };
  const installedAt = copied.args[1]!;

  // The ENTRYPOINT: node with the broker's heap flag on the broker's script, a path in the deployed
  // tree or a name linked to one on PATH.
  const command = brokerCommand(entrypoint?.exec ?? []);
  if (!command.nodeFlags.includes(BROKER_HEAP_FLAG)) problems.push(`the ENTRYPOINT does not run node ${BROKER_HEAP_FLAG} on the broker: large bodies would cost it a full collection every few requests`);
  const program = command.program ?? "";
  const links = new Map<string, string>();
  for (const step of run.instructions.filter((instruction) => instruction.keyword === "RUN" && instruction.args[0] === "ln" && instruction.args[1] === "-s")) {
    links.set(step.args[3]!, step.args[2]!);
  }
  const target = program.startsWith("/") ? program : links.get(`/usr/local/bin/${program}`);
  if (target === undefined || !target.startsWith(`${installedAt}/`)) {
    problems.push(`ENTRYPOINT ${program} is neither in ${installedAt} nor linked to it from /usr/local/bin`);
    return { problems, deploy: undefined };
  }
  return { problems, deploy: { command: deployRun.args.map(unquote), output, installedAt, entrypoint: target.slice(installedAt.length + 1), nodeFlags: command.nodeFlags } };
}

function unquote(word: string): string {
  return /^(["']).*\1$/.test(word) ? word.slice(1, -1) : word;
}

/**
 * What .dockerignore must get right: every file the build needs is in the context, and what a
 * local install or build made (node_modules, dist, .turbo) and .git are not.
 */
export function dockerignoreProblems(ignoreText: string, needed: readonly string[]): string[] {
  const ignored = ignoreRules(ignoreText);
  const problems = needed.filter((file) => ignored.ignores(file)).map((file) => `.dockerignore leaves out ${file}, which the build needs`);
  for (const file of ["node_modules/pino/package.json", "packages/protocol/node_modules/x/index.js", "packages/protocol/dist/index.js", "packages/protocol/.turbo/turbo-build.log", ".git/HEAD"]) {
    if (!ignored.ignores(file)) problems.push(`.dockerignore lets ${file} into the build context`);
  }
  return problems;
}
