// deploy/ checked offline: every resource against the Kubernetes OpenAPI
// schemas (kubernetes-models) and the Prometheus Operator CRD schemas
// (@kubernetes-models/prometheus-operator), the kustomizations' wiring, the
// DaemonSet's least-privilege settings, and the Dockerfile (dockerfile-utils).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { validate as validateDockerfile } from "dockerfile-utils";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import {
  agentContainer, agentSpec, baseResources, daemonSet, deployDir, kustomizationResources, parseYamlText, readKustomization,
} from "./manifests.mjs";

const models = {
  "v1/Namespace": Namespace,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/DaemonSet": DaemonSet,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

function validateResource({ file, doc }) {
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  assert.ok(Model, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
  try {
    new Model(doc).validate();
  } catch (error) {
    assert.fail(`${file}: ${doc.kind} ${doc.metadata?.name}: ${error.message}`);
  }
}

const kustomizations = ["base", "overlays/example"].map((d) => join(deployDir, d));

test("every kustomization lists files that exist", () => {
  for (const dir of kustomizations) {
    const k = readKustomization(dir);
    assert.equal(k.apiVersion, "kustomize.config.k8s.io/v1beta1", dir);
    assert.equal(k.kind, "Kustomization", dir);
    for (const entry of k.resources ?? []) assert.ok(existsSync(join(dir, entry)), `${dir}: ${entry} is missing`);
  }
  const listed = new Set(readKustomization(join(deployDir, "base")).resources);
  for (const file of readdirSync(join(deployDir, "base"))) {
    if (file.endsWith(".yaml") && file !== "kustomization.yaml") assert.ok(listed.has(file), `base/${file} is not listed`);
  }
  assert.ok(listed.has("prometheusrule.yaml"), "the PrometheusRule belongs in the base");
});

test("every resource validates against its OpenAPI schema", () => {
  const resources = baseResources();
  const kinds = resources.map(({ doc }) => doc.kind).sort();
  for (const kind of ["DaemonSet", "Namespace", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"]) {
    assert.ok(kinds.includes(kind), `no ${kind} in deploy/base`);
  }
  resources.forEach(validateResource);
});

test("the schemas catch mistakes (the validator is not a no-op)", () => {
  const broken = structuredClone(daemonSet());
  agentContainer(broken).ports[0].containerPort = "metrics";
  assert.throws(() => new DaemonSet(broken).validate(), /containerPort/);
  const noSelector = structuredClone(daemonSet());
  delete noSelector.spec.selector;
  assert.throws(() => new DaemonSet(noSelector).validate(), /selector/);
});

test("everything lives in the leakwatch namespace", () => {
  const base = readKustomization(join(deployDir, "base"));
  assert.equal(base.namespace, "leakwatch");
  for (const { file, doc } of baseResources()) {
    if (doc.kind === "Namespace") assert.equal(doc.metadata.name, "leakwatch");
    else assert.ok([undefined, "leakwatch"].includes(doc.metadata.namespace), `${file}: ${doc.metadata.namespace}`);
  }
});

test("the example overlay sets the agent's image and patches real paths", () => {
  const dir = join(deployDir, "overlays/example");
  const overlay = readKustomization(dir);
  const image = agentContainer().image;
  assert.ok(overlay.images.some((i) => image.startsWith(`${i.name}:`) && i.newName && i.newTag), "images[] must match the base image");
  assert.ok(kustomizationResources(dir).length >= 6);
});

test("the DaemonSet asks for the least privilege that works", () => {
  const ds = daemonSet();
  const pod = ds.spec.template.spec;
  const c = agentContainer(ds);
  const sc = c.securityContext;
  assert.equal(pod.hostPID, true);
  assert.notEqual(pod.hostNetwork, true);
  assert.notEqual(pod.hostIPC, true);
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.runAsNonRoot ?? pod.securityContext.runAsNonRoot, true);
  assert.notEqual(pod.securityContext.runAsUser, 0);
  assert.deepEqual(sc.capabilities.drop, ["ALL"]);
  assert.deepEqual([...sc.capabilities.add].sort(), ["BPF", "PERFMON"]);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
  for (const m of agentSpec(ds).mounts) {
    assert.ok(m.hostPath, `${m.mountPath} is not a hostPath`);
    assert.equal(m.readOnly, true, `${m.mountPath} must be read-only`);
  }
  assert.ok(pod.volumes.every((v) => v.hostPath || v.emptyDir), "only host paths and scratch space");
});

test("the DaemonSet wires mounts, flags, port, probes and resources together", () => {
  const ds = daemonSet();
  const c = agentContainer(ds);
  const { args, mounts } = agentSpec(ds);
  const mountOf = (hostPath) => mounts.find((m) => m.hostPath === hostPath)?.mountPath;
  const flag = (name) => args[args.indexOf(name) + 1];
  // --host-root: the agent looks for the host's /proc, /sys/fs/cgroup and
  // /var/log below it (host_paths_under in host_paths.h).
  for (const hostPath of ["/proc", "/sys/fs/cgroup", "/var/log/pods", "/var/log/containers"]) {
    assert.equal(mountOf(hostPath), `${flag("--host-root")}${hostPath}`, hostPath);
  }
  assert.equal(mountOf("/sys/kernel/btf"), "/sys/kernel/btf", "libbpf reads /sys/kernel/btf/vmlinux at that path");
  assert.ok(!args.includes("--listen-address"), "the default 0.0.0.0:19849 is the port below");
  assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 19849, protocol: "TCP" }]);
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    assert.deepEqual(probe.httpGet, { path: "/metrics", port: "metrics" });
  }
  const nodeName = c.env.find((e) => e.name === "NODE_NAME");
  assert.equal(nodeName.valueFrom.fieldRef.fieldPath, "spec.nodeName");
  assert.deepEqual(c.resources, { requests: { cpu: "50m", memory: "96Mi" }, limits: { cpu: "200m", memory: "192Mi" } });
});

test("the Service selects the agent pods and the ServiceMonitor selects the Service", () => {
  const docs = baseResources().map(({ doc }) => doc);
  const ds = docs.find((d) => d.kind === "DaemonSet");
  const svc = docs.find((d) => d.kind === "Service");
  const sm = docs.find((d) => d.kind === "ServiceMonitor");
  const podLabels = ds.spec.template.metadata.labels;
  assert.deepEqual(ds.spec.selector.matchLabels, Object.fromEntries(Object.keys(ds.spec.selector.matchLabels).map((k) => [k, podLabels[k]])));
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v, `Service selector ${k}`);
  assert.equal(svc.spec.ports[0].targetPort, "metrics");
  for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v, `ServiceMonitor selector ${k}`);
  assert.ok(sm.spec.endpoints.every((e) => svc.spec.ports.some((p) => p.name === e.port)));
  assert.deepEqual(sm.spec.namespaceSelector.matchNames, ["leakwatch"]);
});

// The operator's target labels namespace, pod and container name the agent's
// own pod; kept, they would rename the agent's pod identity labels to
// exported_* (honorLabels: false) or stamp the agent's pod on processes
// outside any pod (honorLabels: true). So they are dropped.
test("the ServiceMonitor keeps the agent's pod identity labels and adds the node", () => {
  const sm = baseResources().map(({ doc }) => doc).find((d) => d.kind === "ServiceMonitor");
  for (const endpoint of sm.spec.endpoints) {
    assert.notEqual(endpoint.honorLabels, true, "honorLabels would attach the agent's pod to host processes");
    const drop = endpoint.relabelings.find((r) => r.action === "labeldrop");
    assert.ok(drop, "a labeldrop relabeling");
    const dropped = new RegExp(`^(?:${drop.regex})$`);
    for (const label of ["namespace", "pod", "container"]) assert.ok(dropped.test(label), `drops ${label}`);
    for (const label of ["node", "job", "instance", "service"]) assert.ok(!dropped.test(label), `keeps ${label}`);
    const node = endpoint.relabelings.find((r) => r.targetLabel === "node");
    assert.deepEqual(node.sourceLabels, ["__meta_kubernetes_pod_node_name"]);
  }
});

test("kubectl kustomize renders both kustomizations to valid resources (when kubectl is installed)", (t) => {
  let kubectl = true;
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
  } catch {
    kubectl = false;
  }
  if (!kubectl) return t.skip("kubectl not installed; the files were validated one by one above");
  for (const dir of kustomizations) {
    const rendered = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
    const docs = parseYamlText(rendered, `kubectl kustomize ${dir}`);
    docs.forEach((doc) => validateResource({ file: `kustomize ${dir}`, doc }));
    for (const doc of docs.filter((d) => d.kind !== "Namespace")) assert.equal(doc.metadata.namespace, "leakwatch");
  }
});

const dockerfile = readFileSync(join(deployDir, "Dockerfile"), "utf8");

test("the Dockerfile has no syntax or semantic problems", () => {
  assert.deepEqual(validateDockerfile(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
  assert.match(dockerfile, /^FROM debian:bookworm AS build$/m);
  assert.match(dockerfile, /^FROM debian:bookworm-slim AS runtime$/m);
  assert.match(dockerfile, /COPY --from=build \S*leakwatch-agent/);
  assert.match(dockerfile, /^USER 65534:65534$/m);
});

test("the image's file capabilities are the DaemonSet's added capabilities", () => {
  const setcap = dockerfile.match(/setcap (\S+)\+ep \/usr\/local\/bin\/leakwatch-agent/);
  assert.ok(setcap, "no setcap for the agent");
  const fileCaps = setcap[1].split(",").map((c) => c.replace(/^cap_/, "").toUpperCase()).sort();
  assert.deepEqual(fileCaps, [...agentContainer().securityContext.capabilities.add].sort());
});

// The runtime stage must install the package of every shared library the
// built agent links (libc, libgcc and libstdc++ come with the base image).
test("the runtime stage installs every library the agent links", (t) => {
  const agent = process.env.LW_AGENT_PATH;
  if (!agent || !existsSync(agent)) return t.skip("LW_AGENT_PATH not set (ctest sets it)");
  const libraries = execFileSync("ldd", [agent], { encoding: "utf8" })
    .split("\n").map((l) => l.match(/=> (\/\S+)/)?.[1]).filter(Boolean);
  const inBase = new Set(["libc6", "libgcc-s1", "libstdc++6"]);
  const runtimeStage = dockerfile.slice(dockerfile.indexOf("AS runtime"));
  // What the stage installs: the packages it names and what they depend on
  // (libcurl4 brings its TLS, HTTP/2 and Kerberos libraries), as dpkg knows
  // the same Debian release here.
  const named = runtimeStage.match(/--no-install-recommends([^&]*)&&/)[1].split(/[\s\\]+/).filter(Boolean);
  const installed = new Set();
  for (const queue = [...named]; queue.length > 0;) {
    const pkg = queue.pop();
    if (installed.has(pkg)) continue;
    installed.add(pkg);
    const depends = execFileSync("dpkg-query", ["-W", "-f", "${Depends}, ${Pre-Depends}", pkg], { encoding: "utf8" });
    for (const alternative of depends.split(",")) {
      const first = alternative.split("|")[0].trim().split(/[\s:(]/)[0];
      if (first) queue.push(first);
    }
  }
  for (const library of libraries) {
    let owner;
    try {
      owner = execFileSync("dpkg", ["-S", library], { encoding: "utf8" });
    } catch {
      owner = execFileSync("dpkg", ["-S", library.replace(/^\/lib\//, "/usr/lib/")], { encoding: "utf8" });
    }
    const pkg = owner.split(":")[0];
    if (!inBase.has(pkg)) assert.ok(installed.has(pkg), `${library} (${pkg}) is not installed by the runtime stage`);
  }
});
