import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { brokerRefuses } from "./broker-cli.js";
import { imageUid, readStages } from "./dockerfile-checks.js";
import { brokerContainer, fleetProblems, schemaProblems, unknownFieldProblems } from "./kubernetes-checks.js";
import { buildKustomization, type KubernetesObject } from "./kustomization.js";

const KUBERNETES = path.join(import.meta.dirname, "..", "kubernetes");
const DOCKERFILE = path.join(import.meta.dirname, "..", "..", "Dockerfile");
const BUILDS = { base: path.join(KUBERNETES, "base"), "overlays/tls": path.join(KUBERNETES, "overlays", "tls") };
const context = { imageUid: imageUid(readStages(readFileSync(DOCKERFILE, "utf8")))! };

// biome-ignore lint/suspicious/noExplicitAny: tests reach into the objects to break them
type Mutable = any;

/** A copy of `objects` with the object of `kind` changed by `change`. */
function broken(objects: readonly KubernetesObject[], kind: string, change: (object: Mutable) => void): KubernetesObject[] {
  const copy = structuredClone(objects) as KubernetesObject[];
  const target = copy.find((object) => object.kind === kind);
  expect(target, kind).toBeDefined();
  change(target);
  return copy;
}

/** The broker container of a StatefulSet, to break. */
const broker = (statefulSet: Mutable): Mutable => statefulSet.spec.template.spec.containers[0];

/** Replaces the value after `flag` in the broker's args. */
function setArg(statefulSet: Mutable, flag: string, value: string): void {
  const args: string[] = broker(statefulSet).args;
  expect(args).toContain(flag);
  args[args.indexOf(flag) + 1] = value;
}

describe("deploy/kubernetes", () => {
  it("holds the image's user in the Dockerfile that the manifests run as", () => {
    expect(context.imageUid).toBe(1000);
  });

  for (const [name, dir] of Object.entries(BUILDS)) {
    describe(name, () => {
      const objects = buildKustomization(dir);

      it("is a StatefulSet, a headless Service and a PodDisruptionBudget that pass the Kubernetes API schemas, with no unknown field", () => {
        expect(objects.map((object) => object.kind).sort()).toEqual(["PodDisruptionBudget", "Service", "StatefulSet"]);
        expect(schemaProblems(objects)).toEqual([]);
        expect(unknownFieldProblems(objects)).toEqual([]);
      });

      it("agrees with itself and with the broker: selectors, ports, probes, grace period, one core, non-root", () => {
        expect(fleetProblems(objects, context)).toEqual([]);
      });

      it("starts the broker with flags and variables it accepts", () => {
        const statefulSet = objects.find((object) => object.kind === "StatefulSet") as IStatefulSet;
        const container = brokerContainer(statefulSet)!;
        expect(brokerRefuses(container.container.args ?? [], container.env)).toBeUndefined();
      });
    });
  }

  it("the TLS overlay adds the certificate, key, CA, client-certificate and ACL flags to the base's", () => {
    const base = brokerContainer(buildKustomization(BUILDS.base).find((object) => object.kind === "StatefulSet") as IStatefulSet)!;
    const tls = brokerContainer(buildKustomization(BUILDS["overlays/tls"]).find((object) => object.kind === "StatefulSet") as IStatefulSet)!;
    expect(tls.container.args!.slice(0, base.container.args!.length)).toEqual(base.container.args);
    expect(tls.args.map((arg) => arg.flag)).toEqual(expect.arrayContaining(["--tls-cert", "--tls-key", "--tls-ca", "--tls-client-auth", "--acl"]));
    // The broker refuses --tls-client-auth require without a CA: the check runs the broker's own rules.
    const withoutCa = tls.container.args!.filter((arg) => !arg.startsWith("--tls-ca="));
    expect(brokerRefuses(withoutCa, tls.env)).toMatch(/--tls-client-auth require needs --tls-ca/);
  });

  it("kubectl kustomize, where kubectl is installed, builds the same objects as these tests read", (test) => {
    const probe = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
    if (probe.status !== 0) test.skip("kubectl is not installed: the manifests are built by kustomization.ts alone");
    for (const dir of Object.values(BUILDS)) {
      const built = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
      expect(built.stderr).toBe("");
      const byKubectl = parseAllDocuments(built.stdout).map((document) => document.toJS());
      const sortByKind = (list: KubernetesObject[]) => [...list].sort((a, b) => a.kind.localeCompare(b.kind));
      expect(sortByKind(byKubectl)).toEqual(sortByKind(buildKustomization(dir)));
    }
  });

  describe("the checks refuse broken manifests", () => {
    const objects = buildKustomization(BUILDS["overlays/tls"]);
    const problems = (broken: KubernetesObject[]) => [...schemaProblems(broken), ...fleetProblems(broken, context)].join("\n");

    it("the schema check: wrong types, bad quantities, missing required fields, an unknown kind", () => {
      expect(problems(broken(objects, "StatefulSet", (s) => (s.spec.replicas = "3")))).toMatch(/spec\/replicas must be integer/);
      expect(problems(broken(objects, "StatefulSet", (s) => (broker(s).resources.limits.cpu = "lots")))).toMatch(/limits\/cpu must match format "quantity"/);
      expect(problems(broken(objects, "StatefulSet", (s) => delete broker(s).name))).toMatch(/containers\/0 must have required property name/);
      expect(problems(broken(objects, "Service", (s) => (s.spec.ports[0].protocol = "TCPX")))).toMatch(/protocol must be equal to one of the allowed values/);
      expect(problems(broken(objects, "PodDisruptionBudget", (s) => (s.kind = "PodDisruption")))).toMatch(/is not a kind of the fleet/);
    });

    it("the unknown-field check: a misspelt field, a field at the wrong level, in any of the objects", () => {
      const typos = [
        broken(objects, "StatefulSet", (s) => (broker(s).readinessProbee = broker(s).readinessProbe)),
        broken(objects, "StatefulSet", (s) => (s.spec.template.spec.securityContext.readOnlyRootFilesystem = true)),
        broken(objects, "Service", (s) => (s.spec.publishNotReady = true)),
      ];
      const found = unknownFieldProblems(typos.flat());
      expect(found.join("\n")).toMatch(/StatefulSet\/broker: .*'"readinessProbee"' does not exist in type 'IContainer'/);
      expect(found.join("\n")).toMatch(/StatefulSet\/broker: .*'"readOnlyRootFilesystem"' does not exist in type 'IPodSecurityContext'/);
      expect(found.join("\n")).toMatch(/Service\/switchyard: .*'"publishNotReady"' does not exist in type 'IServiceSpec'/);
      expect(found).toHaveLength(3);
      // The schemas let all three through: this is what the check adds.
      expect(typos.flatMap((each) => schemaProblems(each))).toEqual([]);
    });

    const cases: Array<[string, string, (object: Mutable) => void, RegExp]> = [
      ["a Service selector that misses the pods", "Service", (s) => (s.spec.selector = { app: "broker" }), /Service selector .* does not select the pod labels/],
      ["a Service with a cluster IP", "Service", (s) => delete s.spec.clusterIP, /must be headless/],
      ["a Service that keeps draining brokers in DNS", "Service", (s) => (s.spec.publishNotReadyAddresses = true), /publishes not-ready addresses/],
      ["a Service that targets no container port", "Service", (s) => (s.spec.ports[0].targetPort = "brokr"), /targets brokr, which no containerPort is/],
      ["a serviceName that is not the Service", "StatefulSet", (s) => (s.spec.serviceName = "brokers"), /serviceName brokers is not the headless Service switchyard/],
      ["a budget selector that misses the pods", "PodDisruptionBudget", (s) => (s.spec.selector.matchLabels = { "app.kubernetes.io/name": "broker" }), /PodDisruptionBudget selector/],
      ["a budget that blocks every drain", "PodDisruptionBudget", (s) => {
          s.spec.minAvailable = 3;
          delete s.spec.maxUnavailable;
        }, /minAvailable 3 of 3 brokers blocks every node drain/],
      ["one broker", "StatefulSet", (s) => (s.spec.replicas = 1), /replicas 1: a fleet needs two brokers or more/],
      ["a readiness probe on the broker port", "StatefulSet", (s) => (broker(s).readinessProbe.httpGet.port = "broker"), /readinessProbe port broker is 9090, not the --monitor port 9091/],
      ["a liveness probe of /readyz", "StatefulSet", (s) => (broker(s).livenessProbe.httpGet.path = "/readyz"), /livenessProbe gets \/readyz, not \/livez/],
      ["no readiness probe", "StatefulSet", (s) => delete broker(s).readinessProbe, /readinessProbe must be an httpGet of \/readyz/],
      ["a monitor on another port than the probes'", "StatefulSet", (s) => setArg(s, "--monitor", "0.0.0.0:9092"), /livenessProbe port monitor is 9091, not the --monitor port 9092/],
      ["a monitor on loopback", "StatefulSet", (s) => setArg(s, "--monitor", "127.0.0.1:9091"), /the kubelet probes the pod's IP/],
      ["a broker on loopback (the CLI's default host)", "StatefulSet", (s) => broker(s).args.splice(broker(s).args.indexOf("--host"), 2), /--host 127\.0\.0\.1: clients reach the broker on the pod's IP/],
      ["a broker port no container port declares", "StatefulSet", (s) => setArg(s, "--port", "9999"), /no containerPort is --port 9999/],
      ["a flag the broker does not have", "StatefulSet", (s) => (broker(s).args[0] = "--hots"), /"--hots" is not a switchyard-broker flag/],
      ["a variable the broker does not read", "StatefulSet", (s) => broker(s).env.push({ name: "SWITCHYARD_MONITR", value: "0.0.0.0:9091" }), /SWITCHYARD_MONITR is not a variable the broker reads/],
      ["a command that bypasses the image's ENTRYPOINT", "StatefulSet", (s) => (broker(s).command = ["node", "cli.js"]), /sets command/],
      ["a grace period shorter than the drain", "StatefulSet", (s) => (s.spec.template.spec.terminationGracePeriodSeconds = 20), /terminationGracePeriodSeconds 20 s must exceed preStop 5 s \+ --drain-timeout-ms 15000 \+ --write-timeout-ms 5000/],
      ["a drain longer than the grace period", "StatefulSet", (s) => setArg(s, "--drain-timeout-ms", "30000"), /must exceed preStop 5 s \+ --drain-timeout-ms 30000/],
      ["a write timeout from the environment that the grace period misses", "StatefulSet", (s) => broker(s).env.push({ name: "SWITCHYARD_WRITE_TIMEOUT_MS", value: "15000" }), /--write-timeout-ms 15000: SIGKILL would cut the drain short/],
      ["a longer preStop pause", "StatefulSet", (s) => (broker(s).lifecycle.preStop = { exec: { command: ["sleep", "15"] } }), /must exceed preStop 15 s/],
      ["two cores", "StatefulSet", (s) => (broker(s).resources.limits.cpu = "2"), /cpu requests 1 \/ limits 2/],
      ["memory limits above requests", "StatefulSet", (s) => (broker(s).resources.limits.memory = "2Gi"), /memory requests 1Gi \/ limits 2Gi must be set and equal/],
      ["root", "StatefulSet", (s) => (s.spec.template.spec.securityContext.runAsUser = 0), /runAsUser 0 is not the image's non-root user 1000/],
      ["runAsNonRoot off", "StatefulSet", (s) => (s.spec.template.spec.securityContext.runAsNonRoot = false), /runAsNonRoot is not true/],
      ["a writable root filesystem", "StatefulSet", (s) => (broker(s).securityContext.readOnlyRootFilesystem = false), /readOnlyRootFilesystem is not true/],
      ["privilege escalation", "StatefulSet", (s) => delete broker(s).securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation is not false/],
      ["capabilities kept", "StatefulSet", (s) => (broker(s).securityContext.capabilities.drop = ["NET_RAW"]), /capabilities do not drop ALL/],
      ["service links", "StatefulSet", (s) => delete s.spec.template.spec.enableServiceLinks, /enableServiceLinks is not false/],
      ["a service account token", "StatefulSet", (s) => (s.spec.template.spec.automountServiceAccountToken = true), /automountServiceAccountToken is not false/],
      ["a certificate no volume provides", "StatefulSet", (s) => (s.spec.template.spec.volumes[0].secret.items[0].path = "cert.pem"), /--tls-cert \/etc\/switchyard\/tls\/tls\.crt is not a file that any Secret or ConfigMap volume mounts/],
      ["an ACL volume not mounted", "StatefulSet", (s) => broker(s).volumeMounts.pop(), /--acl \/etc\/switchyard\/acl\/acl\.yaml is not a file/],
    ];
    for (const [what, kind, change, expected] of cases) {
      it(`names ${what}`, () => {
        expect(problems(broken(objects, kind, change))).toMatch(expected);
      });
    }

    it("names a pod spread that misses the pods", () => {
      const spread = broken(objects, "StatefulSet", (s) => (s.spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels = { app: "x" }));
      expect(problems(spread)).toMatch(/topologySpreadConstraints selector/);
    });

    it("names an image user the manifests do not run as", () => {
      expect(fleetProblems(objects, { imageUid: 1001 }).join("\n")).toMatch(/runAsUser 1000 is not the image's non-root user 1001/);
    });
  });
});
