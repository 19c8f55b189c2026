import path from "node:path";
import { StatefulSet, type IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget, type IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Service, type IService } from "kubernetes-models/v1/Service";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import ts from "typescript";
import { brokerCliSpec, type CliArg, effectiveSetting, readArgs } from "./broker-cli.js";
import type { KubernetesObject } from "./kustomization.js";

/**
 * The kinds a broker fleet is made of, each with its model from kubernetes-models (generated from
 * Kubernetes' OpenAPI schemas): the class that validates, and the module and interface of its type.
 */
const MODELS: Record<string, { Model: new (data: never) => { validate(): void }; module: string; type: string }> = {
  "apps/v1/StatefulSet": { Model: StatefulSet, module: "kubernetes-models/apps/v1/StatefulSet", type: "IStatefulSet" },
  "v1/Service": { Model: Service, module: "kubernetes-models/v1/Service", type: "IService" },
  "policy/v1/PodDisruptionBudget": { Model: PodDisruptionBudget, module: "kubernetes-models/policy/v1/PodDisruptionBudget", type: "IPodDisruptionBudget" },
};

/**
 * Each object checked against the Kubernetes API schema of its apiVersion and kind (types, formats
 * such as quantities, required fields, enums). Returns one line per object that fails.
 */
export function schemaProblems(objects: readonly KubernetesObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const name = `${object.kind}/${object.metadata?.name}`;
    const Model = MODELS[`${object.apiVersion}/${object.kind}`]?.Model;
    if (Model === undefined) {
      problems.push(`${name}: ${object.apiVersion} ${object.kind} is not a kind of the fleet (${Object.keys(MODELS).join(", ")})`);
      continue;
    }
    try {
      new Model(object as never).validate();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** A file that is never written: the objects as typed TypeScript literals, compiled in memory. */
const TYPED_FILE = path.join(import.meta.dirname, "manifests.generated.ts");
let previousProgram: ts.Program | undefined;

/**
 * What the schemas let through and the API server refuses: a field that does not exist (a
 * misspelt `readinessProbee`, a `securityContext` field at the wrong level). kubernetes-models'
 * JSON schemas allow extra properties, its TypeScript interfaces do not: each object is compiled
 * as an object literal of its kind's interface, and TypeScript's excess-property check names every
 * unknown field (and any wrong type). One line per problem.
 */
export function unknownFieldProblems(objects: readonly KubernetesObject[]): string[] {
  const lines: string[] = [];
  /** Where each object's literal starts in the file, and its name for the messages. */
  const starts: Array<{ line: number; name: string }> = [];
  for (const [index, object] of objects.entries()) {
    const kind = MODELS[`${object.apiVersion}/${object.kind}`];
    if (kind === undefined) continue; // schemaProblems names it
    lines.unshift(`import type { ${kind.type} as T${index} } from "${kind.module}";`);
    for (const start of starts) start.line++;
    starts.push({ line: lines.length, name: `${object.kind}/${object.metadata?.name}` });
    lines.push(...`export const object${index}: T${index} = ${JSON.stringify(object, null, 1)};`.split("\n"));
  }
  const source = lines.join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === TYPED_FILE ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  host.fileExists = (name) => name === TYPED_FILE || fileExists(name);
  // Reusing the last program skips parsing the library and kubernetes-models' declarations again.
  const program = ts.createProgram([TYPED_FILE], options, host, previousProgram);
  previousProgram = program;
  const typed = program.getSourceFile(TYPED_FILE)!;
  return ts.getPreEmitDiagnostics(program, typed).map((diagnostic) => {
    const line = diagnostic.start === undefined ? 0 : typed.getLineAndCharacterOfPosition(diagnostic.start).line;
    const owner = starts.findLast((start) => start.line <= line)?.name ?? "the objects";
    return `${owner}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
  });
}

/** What the manifests must agree with beyond themselves. */
export interface FleetContext {
  /** The numeric user the image runs as (the Dockerfile's final USER). */
  imageUid: number;
}

/** The broker container's command line and environment, as the checks read them. */
export interface BrokerContainer {
  container: IContainer;
  args: CliArg[];
  /** What in its args is not a flag of the broker's (see readArgs). */
  argProblems: string[];
  /** Its env: literal values as they are, values from a Secret or ConfigMap as a placeholder. */
  env: Record<string, string>;
}

/** A value the broker gets from a Secret or ConfigMap at run time. */
export const FROM_REFERENCE = "value-from-a-reference";

/** The broker container of the StatefulSet: the one named `broker`. */
export function brokerContainer(statefulSet: IStatefulSet): BrokerContainer | undefined {
  const container = statefulSet.spec?.template.spec?.containers.find((candidate) => candidate.name === "broker");
  if (container === undefined) return undefined;
  const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? FROM_REFERENCE]));
  const { args, problems } = readArgs(container.args ?? []);
  return { container, args, argProblems: problems, env };
}

/**
 * Everything about a fleet's manifests that a schema cannot see and a broken fleet would get
 * wrong: names and selectors that must meet, ports that must be the ones the broker listens on,
 * a grace period the drain fits in, flags the broker accepts, one core per broker, a non-root
 * read-only container whose user is the image's, files that a volume provides. One line per
 * problem; an empty list when the fleet is sound.
 */
export function fleetProblems(objects: readonly KubernetesObject[], context: FleetContext): string[] {
  const problems: string[] = [];
  const only = <T>(kind: string): T | undefined => {
    const found = objects.filter((object) => object.kind === kind);
    if (found.length !== 1) problems.push(`expected one ${kind}, found ${found.length}`);
    return found[0] as T | undefined;
  };
  const statefulSet = only<IStatefulSet>("StatefulSet");
  const service = only<IService>("Service");
  const budget = only<IPodDisruptionBudget>("PodDisruptionBudget");
  if (statefulSet?.spec === undefined || service?.spec === undefined || budget?.spec === undefined) return problems;
  const pod = statefulSet.spec.template;
  const podSpec = pod.spec!;
  const labels = pod.metadata?.labels ?? {};

  // Names and selectors that must meet.
  if (service.spec.clusterIP !== "None") problems.push(`Service ${service.metadata?.name} must be headless (clusterIP: None): clients resolve it to one address per broker`);
  if (service.spec.publishNotReadyAddresses === true) problems.push("Service publishes not-ready addresses: a draining broker (/readyz 503) would stay in DNS");
  if (statefulSet.spec.serviceName !== service.metadata?.name) problems.push(`StatefulSet serviceName ${statefulSet.spec.serviceName} is not the headless Service ${service.metadata?.name}`);
  const selectors: Array<[string, Record<string, string> | undefined]> = [
    ["Service selector", service.spec.selector],
    ["StatefulSet selector", statefulSet.spec.selector.matchLabels],
    ["PodDisruptionBudget selector", budget.spec.selector?.matchLabels],
    ...(podSpec.topologySpreadConstraints ?? []).map((constraint): [string, Record<string, string> | undefined] => ["topologySpreadConstraints selector", constraint.labelSelector?.matchLabels]),
  ];
  for (const [what, selector] of selectors) {
    if (selector === undefined || Object.keys(selector).length === 0) problems.push(`${what} is empty`);
    else if (!Object.entries(selector).every(([key, value]) => labels[key] === value)) problems.push(`${what} ${JSON.stringify(selector)} does not select the pod labels ${JSON.stringify(labels)}`);
  }

  // A fleet that survives a broker's loss, and a budget that lets a node drain.
  const replicas = statefulSet.spec.replicas ?? 1;
  if (replicas < 2) problems.push(`replicas ${replicas}: a fleet needs two brokers or more to survive losing one`);
  const { maxUnavailable, minAvailable } = budget.spec;
  if (typeof maxUnavailable === "number" && maxUnavailable < 1) problems.push(`PodDisruptionBudget maxUnavailable ${maxUnavailable} blocks every node drain`);
  if (typeof minAvailable === "number" && minAvailable >= replicas) problems.push(`PodDisruptionBudget minAvailable ${minAvailable} of ${replicas} brokers blocks every node drain`);

  const broker = brokerContainer(statefulSet);
  if (broker === undefined) return [...problems, "the StatefulSet has no container named broker"];
  const { container, args, env } = broker;
  if (container.command !== undefined) problems.push("the broker container sets command: it must run the image's ENTRYPOINT (switchyard-broker) with args");
  problems.push(...broker.argProblems);
  const { variables } = brokerCliSpec();
  for (const name of Object.keys(env)) if (name.startsWith("SWITCHYARD_") && !variables.has(name)) problems.push(`env ${name} is not a variable the broker reads (switchyard-broker --help)`);

  // Ports: what the broker listens on, what the pod declares, what the Service and probes use.
  const setting = (flag: string) => effectiveSetting(flag, args, env);
  const everyInterface = (host: string | undefined) => host === "0.0.0.0" || host === "::" || host === "[::]";
  if (!everyInterface(setting("--host"))) problems.push(`--host ${setting("--host")}: clients reach the broker on the pod's IP, so it must listen on 0.0.0.0 (or ::)`);
  const brokerPort = Number(setting("--port"));
  const monitor = setting("--monitor");
  const monitorMatch = monitor === undefined ? null : /^(.*):(\d+)$/.exec(monitor);
  if (monitorMatch === null) problems.push("no --monitor HOST:PORT (or SWITCHYARD_MONITOR): the probes need /livez and /readyz");
  else if (!everyInterface(monitorMatch[1])) problems.push(`--monitor ${monitor}: the kubelet probes the pod's IP, so the monitor must listen on 0.0.0.0 (or ::)`);
  const monitorPort = monitorMatch === null ? undefined : Number(monitorMatch[2]);
  const containerPorts = new Map((container.ports ?? []).map((port) => [port.name ?? String(port.containerPort), port.containerPort]));
  const resolve = (port: number | string | undefined) => (typeof port === "number" ? port : port === undefined ? undefined : containerPorts.get(port));
  if (![...containerPorts.values()].includes(brokerPort)) problems.push(`no containerPort is --port ${brokerPort}`);
  if (monitorPort !== undefined && ![...containerPorts.values()].includes(monitorPort)) problems.push(`no containerPort is the --monitor port ${monitorPort}`);
  const servicePorts = service.spec.ports ?? [];
  for (const port of servicePorts) {
    if (resolve(port.targetPort ?? port.port) === undefined) problems.push(`Service port ${port.name ?? port.port} targets ${port.targetPort}, which no containerPort is`);
  }
  if (!servicePorts.some((port) => resolve(port.targetPort ?? port.port) === brokerPort)) problems.push(`the Service has no port that reaches --port ${brokerPort}`);
  const probes: Array<[string, IProbe | undefined, string]> = [
    ["livenessProbe", container.livenessProbe, "/livez"],
    ["readinessProbe", container.readinessProbe, "/readyz"],
  ];
  for (const [what, probe, path] of probes) {
    if (probe?.httpGet === undefined) {
      problems.push(`${what} must be an httpGet of ${path}`);
      continue;
    }
    if (probe.httpGet.path !== path) problems.push(`${what} gets ${probe.httpGet.path}, not ${path}`);
    const port = resolve(probe.httpGet.port);
    if (port !== monitorPort) problems.push(`${what} port ${probe.httpGet.port} is ${port}, not the --monitor port ${monitorPort}`);
  }

  // The drain fits in the grace period: pause, drain, then closing (bounded by the write timeout).
  const graceMs = (podSpec.terminationGracePeriodSeconds ?? 30) * 1000;
  const preStopMs = preStopSeconds(container) * 1000;
  const drainMs = Number(setting("--drain-timeout-ms"));
  const closeMs = Number(setting("--write-timeout-ms"));
  if (!(graceMs > preStopMs + drainMs + closeMs)) {
    problems.push(`terminationGracePeriodSeconds ${graceMs / 1000} s must exceed preStop ${preStopMs / 1000} s + --drain-timeout-ms ${drainMs} + --write-timeout-ms ${closeMs}: SIGKILL would cut the drain short`);
  }

  // One core per broker, Guaranteed.
  const { requests = {}, limits = {} } = container.resources ?? {};
  if (cores(requests.cpu) !== 1 || cores(limits.cpu) !== 1) problems.push(`cpu requests ${requests.cpu} / limits ${limits.cpu}: a broker routes on one core, give it exactly 1`);
  if (requests.memory === undefined || bytes(requests.memory) !== bytes(limits.memory)) problems.push(`memory requests ${requests.memory} / limits ${limits.memory} must be set and equal (Guaranteed)`);

  // Not root, nothing writable, nothing it does not need.
  const podSecurity = podSpec.securityContext ?? {};
  const security = container.securityContext ?? {};
  if (podSecurity.runAsNonRoot !== true && security.runAsNonRoot !== true) problems.push("runAsNonRoot is not true");
  const uid = security.runAsUser ?? podSecurity.runAsUser;
  if (uid !== context.imageUid || uid === 0) problems.push(`runAsUser ${uid} is not the image's non-root user ${context.imageUid} (the Dockerfile's USER)`);
  if (security.readOnlyRootFilesystem !== true) problems.push("readOnlyRootFilesystem is not true");
  if (security.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation is not false");
  if (!(security.capabilities?.drop ?? []).includes("ALL")) problems.push("capabilities do not drop ALL");
  if (podSpec.enableServiceLinks !== false) problems.push("enableServiceLinks is not false: Services' <NAME>_PORT variables could set SWITCHYARD_* settings");
  if (podSpec.automountServiceAccountToken !== false) problems.push("automountServiceAccountToken is not false: the broker never calls the Kubernetes API");

  // Every file a flag names is in a volume that provides it.
  const { flags } = brokerCliSpec();
  for (const [flag, { value }] of flags) {
    if (value !== "file") continue;
    const file = setting(flag);
    if (file !== undefined && !volumeProvides(podSpec, container, file)) problems.push(`${flag} ${file} is not a file that any Secret or ConfigMap volume mounts`);
  }
  return problems;
}

/** The pause before SIGTERM: a preStop sleep action, or an exec of `sleep N`. */
function preStopSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep !== undefined) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  return command[0] === "sleep" ? Number(command[1]) : 0;
}

/** A CPU quantity in cores: 1, "1", "1000m". */
function cores(quantity: number | string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const text = String(quantity);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/** A memory quantity in bytes: "1Gi", "512Mi", "1G", 1073741824. */
function bytes(quantity: number | string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(String(quantity));
  if (match === null) return Number.NaN;
  const unit = match[2] ?? "";
  const power = " KMGT".indexOf(unit[0] ?? " ");
  return Number(match[1]) * (unit.endsWith("i") ? 1024 : 1000) ** power;
}

/** Whether a Secret or ConfigMap volume mounted in the container lists `file` among its items. */
function volumeProvides(podSpec: IPodSpec, container: IContainer, file: string): boolean {
  return (container.volumeMounts ?? []).some((mount) => {
    if (!file.startsWith(`${mount.mountPath.replace(/\/$/, "")}/`)) return false;
    const relative = file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
    const volume = podSpec.volumes?.find((candidate) => candidate.name === mount.name);
    const items = volume?.secret?.items ?? volume?.configMap?.items ?? [];
    return items.some((item) => item.path === relative);
  });
}
