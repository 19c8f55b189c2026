import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { applyPatch, type Operation } from "fast-json-patch";
import { parse, parseAllDocuments } from "yaml";

/** A Kubernetes object as read from YAML: checked against its schema by kubernetes-schemas.ts. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: the shape is what the schema check vouches for
  spec?: any;
}

/** The fields of kustomization.yaml that build() applies; any other one is refused, not ignored. */
const SUPPORTED = new Set(["apiVersion", "kind", "resources", "images", "patches"]);

/**
 * What `kubectl apply -k DIR` would send, for the subset of kustomize these manifests use:
 * `resources` (files and other kustomization directories), `images` (newName/newTag) and
 * `patches` holding a JSON patch (RFC 6902, applied with fast-json-patch exactly as kustomize
 * does) for a target kind and name. A field or patch form outside that subset throws, so that a
 * manifest cannot grow something these tests would silently skip.
 */
export function buildKustomization(dir: string): KubernetesObject[] {
  const kustomization = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Record<string, unknown>;
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED.has(field)) throw new Error(`${dir}/kustomization.yaml: "${field}" is not modelled by these tests; extend kustomization.ts`);
  }
  const objects: KubernetesObject[] = [];
  for (const resource of (kustomization.resources as string[] | undefined) ?? []) {
    const full = path.join(dir, resource);
    if (statSync(full).isDirectory()) objects.push(...buildKustomization(full));
    else objects.push(...readObjects(full));
  }
  for (const image of (kustomization.images as Array<{ name: string; newName?: string; newTag?: string }> | undefined) ?? []) {
    for (const container of objects.flatMap(podContainers)) {
      const [name, tag] = splitImage(container.image);
      if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag ?? tag ?? "latest"}`;
    }
  }
  for (const patch of (kustomization.patches as Array<{ path: string; target: { kind: string; name: string } }> | undefined) ?? []) {
    const operations = parse(readFileSync(path.join(dir, patch.path), "utf8")) as unknown;
    if (!Array.isArray(operations)) throw new Error(`${dir}/${patch.path}: only JSON patches (a list of operations) are modelled by these tests`);
    const targets = objects.filter((object) => object.kind === patch.target.kind && object.metadata.name === patch.target.name);
    if (targets.length !== 1) throw new Error(`${dir}/${patch.path}: its target ${patch.target.kind}/${patch.target.name} matches ${targets.length} objects`);
    const index = objects.indexOf(targets[0]!);
    objects[index] = applyPatch(targets[0]!, operations as Operation[], true, false).newDocument;
  }
  return objects;
}

/** Every document of a YAML file. */
export function readObjects(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    return document.toJS() as KubernetesObject;
  });
}

/** The containers of a workload's pod template (none for other kinds). */
export function podContainers(object: KubernetesObject): Array<{ image: string }> {
  return object.spec?.template?.spec?.containers ?? [];
}

function splitImage(image: string): [string, string | undefined] {
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/") ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}
