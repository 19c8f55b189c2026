import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "@switchyard/protocol";
import { parse as parseYaml } from "yaml";
import type { AclDocument } from "./access-list.js";

/**
 * Reads an ACL file: JSON when its name ends in `.json`, YAML otherwise. The content is checked by
 * AccessList.from; this only reads and parses. Throws InvalidArgumentError naming the file.
 */
export function readAclFile(path: string): AclDocument {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the ACL file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    return (path.endsWith(".json") ? JSON.parse(text) : parseYaml(text)) as AclDocument;
  } catch (error) {
    throw new InvalidArgumentError(`the ACL file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message}`, { cause: error });
  }
}
