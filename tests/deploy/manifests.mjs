// Reading deploy/: the kustomizations, their resources as parsed YAML
// documents, and the DaemonSet's container. Shared by the tests and by
// daemonset-spec.mjs, which hands the DaemonSet's arguments to the C++ test.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const deployDir = join(repoRoot, "deploy");

// Every document of a multi-document YAML text; origin names it in errors.
export function parseYamlText(text, origin) {
  const docs = parseAllDocuments(text);
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${origin}: ${doc.errors.map((e) => e.message).join("; ")}`);
  }
  return docs.map((doc) => doc.toJS()).filter((doc) => doc !== null);
}

export function readYamlDocuments(path) {
  return parseYamlText(readFileSync(path, "utf8"), path);
}

export function readKustomization(dir) {
  const [k] = readYamlDocuments(join(dir, "kustomization.yaml"));
  return k;
}

// Every resource document of a kustomization directory, following
// directory resources (bases) recursively, each with the file it came from.
export function kustomizationResources(dir) {
  const out = [];
  for (const entry of readKustomization(dir).resources ?? []) {
    const path = join(dir, entry);
    if (existsSync(join(path, "kustomization.yaml"))) {
      out.push(...kustomizationResources(path));
    } else {
      for (const doc of readYamlDocuments(path)) out.push({ file: path, doc });
    }
  }
  return out;
}

export function baseResources() {
  return kustomizationResources(join(deployDir, "base"));
}

export function daemonSet() {
  const found = baseResources().filter(({ doc }) => doc.kind === "DaemonSet");
  if (found.length !== 1) throw new Error(`expected one DaemonSet in deploy/base, found ${found.length}`);
  return found[0].doc;
}

export function agentContainer(ds = daemonSet()) {
  return ds.spec.template.spec.containers.find((c) => c.name === "agent");
}

// The agent's arguments and where each host path is mounted in its container.
export function agentSpec(ds = daemonSet()) {
  const container = agentContainer(ds);
  const volumes = new Map(ds.spec.template.spec.volumes.map((v) => [v.name, v]));
  const mounts = container.volumeMounts.map((m) => ({
    mountPath: m.mountPath,
    hostPath: volumes.get(m.name)?.hostPath?.path ?? null,
    readOnly: m.readOnly === true,
  }));
  return { args: container.args ?? [], mounts };
}
