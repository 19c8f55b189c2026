#!/usr/bin/env node
/**
 * Checks the package in the current directory the way a user receives it: packs it with
 * `pnpm pack`, then requires of the tarball README.md, LICENSE (the root's, byte for byte),
 * package.json and the built dist (plus any `bin` and every file `exports` names), the metadata an npm page needs (repository
 * with its directory, homepage, bugs, keywords, engines equal to the root's), no `@internal` in any
 * published declaration file, `publint --strict` with no message at all, and `@arethetypeswrong/cli` with no problem. Exits 1 naming every failure.
 *
 * Run by `pnpm test` through turbo's `check:package` task, in every publishable package.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPOSITORY = "https://github.com/switchyard-dev/switchyard";
const packageDir = process.cwd();
const pkg = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));
const rootPkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const directory = path.relative(root, packageDir).split(path.sep).join("/");
const failures = [];
const fail = (message) => failures.push(message);

// ── package.json ───────────────────────────────────────────────────────────────────────────────
if (pkg.private === true) {
  console.error(`${pkg.name} is private: only publishable packages are checked`);
  process.exit(1);
}
if (pkg.license !== "MIT") fail(`license is ${JSON.stringify(pkg.license)}, not "MIT"`);
if (pkg.repository?.url !== `git+${REPOSITORY}.git`) fail(`repository.url must be "git+${REPOSITORY}.git"`);
if (pkg.repository?.directory !== directory) fail(`repository.directory must be "${directory}"`);
if (pkg.homepage !== `${REPOSITORY}/tree/main/${directory}#readme`) fail(`homepage must be "${REPOSITORY}/tree/main/${directory}#readme"`);
if (pkg.bugs?.url !== `${REPOSITORY}/issues`) fail(`bugs.url must be "${REPOSITORY}/issues"`);
if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) fail("keywords are missing");
if (pkg.engines?.node !== rootPkg.engines?.node) fail(`engines.node is ${JSON.stringify(pkg.engines?.node)}, the root's is ${JSON.stringify(rootPkg.engines?.node)}`);

// ── the tarball ────────────────────────────────────────────────────────────────────────────────
const out = mkdtempSync(path.join(tmpdir(), "switchyard-pack-"));
try {
  const packed = JSON.parse(execFileSync("pnpm", ["pack", "--json", "--pack-destination", out], { cwd: packageDir, encoding: "utf8" }));
  const tarball = packed.filename;
  const files = new Set(packed.files.map((file) => file.path));
  const required = ["README.md", "LICENSE", "package.json", "dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts"];
  for (const bin of Object.values(typeof pkg.bin === "string" ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {}))) required.push(path.posix.normalize(bin));
  // Every file an `exports` entry points at (a subpath such as "./internal" included).
  const targets = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry ?? {}).flatMap(targets));
  for (const target of targets(pkg.exports)) required.push(path.posix.normalize(target));
  for (const file of required) if (!files.has(file)) fail(`the tarball has no ${file}`);
  // A user reads the published types as the API: nothing marked for the package's own use may be in them.
  for (const file of files) {
    if (!/\.d\.[cm]?ts$/.test(file)) continue;
    const internal = readFileSync(path.join(packageDir, file), "utf8").split("@internal").length - 1;
    if (internal > 0) fail(`${file} has ${internal} @internal member(s): keep internals out of the public types (an interface, or not exported)`);
  }
  const rootLicense = readFileSync(path.join(root, "LICENSE"), "utf8");
  if (readFileSync(path.join(packageDir, "LICENSE"), "utf8") !== rootLicense) fail("LICENSE differs from the repository root's LICENSE");

  const bytes = readFileSync(tarball);
  const { messages, pkg: packedPkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    strict: true,
    level: "suggestion",
  });
  for (const message of messages) fail(`publint (${message.type}): ${formatMessage(message, packedPkg) ?? message.code}`);

  try {
    execFileSync(path.join(root, "node_modules/.bin/attw"), [tarball, "--format", "ascii"], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    fail(`@arethetypeswrong/cli found problems:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  }
  if (failures.length === 0) console.log(`${pkg.name}: ${files.size} files packed; README, LICENSE, dist, package.json present; publint --strict and attw clean`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`${pkg.name}: the package is not fit to publish:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
  process.exit(1);
}
