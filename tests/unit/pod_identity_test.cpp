// Pod identity on a simulated node: a fake host root with the kubelet's
// /var/log/pods and /var/log/containers for each runtime and cgroup driver,
// and the /proc/PID/cgroup text a process of each shows on cgroup v1 and v2.
#include "collect/pod_identity.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fake_files.h"

namespace lw {
namespace {

namespace fs = std::filesystem;
using test::add_kubelet_container_log;
using test::TempDir;
using test::write_file;

std::string hex_id(char c) { return std::string(64, c); }

constexpr std::string_view kUidA = "6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10";   // containerd, systemd, v2
constexpr std::string_view kUidB = "0b7d3c55-21aa-4f0e-9c3d-5e8f7a6b1c22";   // CRI-O, systemd, v1
constexpr std::string_view kUidC = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";   // Docker, cgroupfs, v1
constexpr std::string_view kUidD = "11112222-3333-4444-5555-666677778888";   // containerd, cgroupfs, v2
constexpr std::string_view kStaticUid = "3c9e0f1ab2d34c5e6f708192a3b4c5d6";  // static pod: a hash
constexpr std::string_view kNoLogsUid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

std::string underscores(std::string_view uid) {
  std::string s(uid);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// What /proc/PID/cgroup shows on a cgroup v1 host (memory hierarchy and
// friends) and on a v2 host (the one unified line).
std::string v1_cgroup_file(const std::string& path) {
  return "12:pids:" + path + "\n11:memory:" + path + "\n3:cpu,cpuacct:" + path + "\n1:name=systemd:" + path + "\n";
}
std::string v2_cgroup_file(const std::string& path) { return "0::" + path + "\n"; }

class SimulatedNode : public ::testing::Test {
 protected:
  void SetUp() override {
    log_root = host.path() / "host" / "var" / "log";
    add_kubelet_container_log(log_root, "shop", "web-7d9f8-abcde", kUidA, "app", hex_id('a'));
    add_kubelet_container_log(log_root, "shop", "web-7d9f8-abcde", kUidA, "sidecar", hex_id('b'));
    add_kubelet_container_log(log_root, "media", "stream-proxy-0", kUidB, "proxy", hex_id('c'));
    add_kubelet_container_log(log_root, "kube-system", "etcd-node1", kStaticUid, "etcd", hex_id('e'));
    add_kubelet_container_log(log_root, "default", "cache-5c6b-xyz12", kUidD, "redis", hex_id('f'));
    // Docker (dockershim/cri-dockerd): the link points into /var/lib/docker,
    // so the pod is found by its (namespace, name) in pods/.
    write_file(log_root / "pods" / ("legacy_api-0_" + std::string(kUidC)) / "api" / "0.log", "x\n");
    fs::create_symlink("/var/lib/docker/containers/" + hex_id('d') + "/" + hex_id('d') + "-json.log",
                       log_root / "containers" / ("api-0_legacy_api-" + hex_id('d') + ".log"));
    resolver.emplace(log_root);
    resolver->refresh();
  }

  PodIdentity resolve_file(const std::string& cgroup_file) const {
    return resolver->resolve(parse_cgroup_file(cgroup_file));
  }

  TempDir host;
  fs::path log_root;
  std::optional<PodIdentityResolver> resolver;
};

TEST(ParseCgroupPath, EveryRuntimeDriverAndQosClass) {
  struct Case {
    std::string path;
    std::string uid, id;
    ContainerRuntime runtime;
  };
  const std::string a = hex_id('a');
  const std::string uid(kUidA), uid_(underscores(kUidA));
  const std::vector<Case> cases{
      // systemd driver
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice/cri-containerd-" + a +
           ".scope",
       uid, a, ContainerRuntime::containerd},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/crio-" + a + ".scope", uid,
       a, ContainerRuntime::crio},
      {"/kubepods.slice/kubepods-pod" + uid_ + ".slice/docker-" + a + ".scope", uid, a, ContainerRuntime::docker},
      // kind and other nested kubelets
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" +
           uid_ + ".slice/cri-containerd-" + a + ".scope",
       uid, a, ContainerRuntime::containerd},
      // cgroupfs driver: bare IDs for containerd and Docker, crio- for CRI-O
      {"/kubepods/burstable/pod" + uid + "/" + a, uid, a, ContainerRuntime::unknown},
      {"/kubepods/besteffort/pod" + uid + "/" + a, uid, a, ContainerRuntime::unknown},
      {"/kubepods/pod" + uid + "/" + a, uid, a, ContainerRuntime::unknown},
      {"/kubepods/burstable/pod" + uid + "/crio-" + a, uid, a, ContainerRuntime::crio},
      // deeper cgroups a container made for itself still belong to it
      {"/kubepods/burstable/pod" + uid + "/" + a + "/worker", uid, a, ContainerRuntime::unknown},
      // the pod's own cgroup and CRI-O's monitor: the pod, no container
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice", uid, "",
       ContainerRuntime::unknown},
      {"/kubepods.slice/kubepods-pod" + uid_ + ".slice/crio-conmon-" + a + ".scope", uid, "",
       ContainerRuntime::unknown},
      // read from inside a container with a private cgroup namespace (v2)
      {"/../../kubepods-besteffort-pod" + uid_ + ".slice/cri-containerd-" + a + ".scope", uid, a,
       ContainerRuntime::containerd},
      {"/../../../kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/crio-" + a + ".scope", uid, a,
       ContainerRuntime::crio},
      {"/../../pod" + uid + "/" + a, uid, a, ContainerRuntime::unknown},
      // static pods have a 32-hex UID
      {"/kubepods/burstable/pod" + std::string(kStaticUid) + "/" + a, std::string(kStaticUid), a,
       ContainerRuntime::unknown},
  };
  for (const auto& c : cases) {
    const auto ref = parse_cgroup_path(c.path);
    EXPECT_EQ(ref.pod_uid, c.uid) << c.path;
    EXPECT_EQ(ref.container_id, c.id) << c.path;
    EXPECT_EQ(ref.runtime, c.runtime) << c.path << " got " << runtime_name(ref.runtime);
  }
}

TEST(ParseCgroupPath, NotAPodIsEmpty) {
  const std::string a = hex_id('a');
  for (const std::string& path : std::vector<std::string>{
           "/", "", "/system.slice/containerd.service", "/user.slice/user-1000.slice/session-2.scope",
           "/docker/" + a,                                                      // plain Docker, no Kubernetes
           "/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10/" + a,                     // no kubepods above
           "/kubepods/burstable/podnot-a-uid/" + a,                             // garbled UID
           "/kubepods/burstable/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c1/" + a,   // one digit short
           "/kubepods/burstable/pod6F2C1A4E-9B1D-4C1E-8A57-3F0F6E2D9C10/" + a,  // upper case
           "/kubepods/somethingelse/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10/" + a,
           "/process_api/403af3b9368b550044a1819add0a7302",
           "/../cri-containerd-" + a + ".scope",  // a sibling container of the reader's own pod
       }) {
    EXPECT_TRUE(parse_cgroup_path(path).empty()) << path;
  }
  // A pod path with a container component that is not an ID: the pod only.
  const auto ref = parse_cgroup_path("/kubepods/burstable/pod" + std::string(kUidA) + "/abc123");
  EXPECT_EQ(ref.pod_uid, kUidA);
  EXPECT_EQ(ref.container_id, "");
}

TEST(KubeletLogNames, PodDirectoriesAndContainerLogs) {
  const auto pod = parse_pod_directory("monitoring_prometheus-0_" + std::string(kUidA));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->namespace_, "monitoring");
  EXPECT_EQ(pod->pod, "prometheus-0");
  EXPECT_EQ(pod->pod_uid, kUidA);
  const std::string id = hex_id('b');
  const auto log = parse_container_log("prometheus-0_monitoring_config-reloader-" + id + ".log");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->pod, "prometheus-0");
  EXPECT_EQ(log->namespace_, "monitoring");
  EXPECT_EQ(log->container, "config-reloader");
  EXPECT_EQ(log->container_id, id);
  for (const std::string& name :
       {std::string("monitoring_prometheus-0"), "a_b_c_" + std::string(kUidA), "_prometheus-0_" + std::string(kUidA)}) {
    EXPECT_FALSE(parse_pod_directory(name)) << name;
  }
  for (const std::string& name : {"prometheus-0_monitoring_app-" + id, "prometheus-0_monitoring_-" + id + ".log",
                                  "prometheus-0_monitoring_app-" + id.substr(1) + ".log"}) {
    EXPECT_FALSE(parse_container_log(name)) << name;
  }
}

TEST_F(SimulatedNode, ContainerdSystemdCgroupV2) {
  const auto id = resolve_file(v2_cgroup_file("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                                              underscores(kUidA) + ".slice/cri-containerd-" + hex_id('b') + ".scope"));
  EXPECT_EQ(id, (PodIdentity{"shop", "web-7d9f8-abcde", std::string(kUidA), "sidecar", hex_id('b')}));
}

TEST_F(SimulatedNode, CrioSystemdCgroupV1) {
  const auto id = resolve_file(v1_cgroup_file("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                                              underscores(kUidB) + ".slice/crio-" + hex_id('c') + ".scope"));
  EXPECT_EQ(id, (PodIdentity{"media", "stream-proxy-0", std::string(kUidB), "proxy", hex_id('c')}));
}

TEST_F(SimulatedNode, DockerCgroupfsCgroupV1JoinedByName) {
  const auto id = resolve_file(v1_cgroup_file("/kubepods/pod" + std::string(kUidC) + "/" + hex_id('d')));
  EXPECT_EQ(id, (PodIdentity{"legacy", "api-0", std::string(kUidC), "api", hex_id('d')}));
}

TEST_F(SimulatedNode, ContainerdCgroupfsCgroupV2AndStaticPod) {
  EXPECT_EQ(resolve_file(v2_cgroup_file("/kubepods/burstable/pod" + std::string(kUidD) + "/" + hex_id('f'))),
            (PodIdentity{"default", "cache-5c6b-xyz12", std::string(kUidD), "redis", hex_id('f')}));
  EXPECT_EQ(resolve_file(v1_cgroup_file("/kubepods/burstable/pod" + std::string(kStaticUid) + "/" + hex_id('e'))),
            (PodIdentity{"kube-system", "etcd-node1", std::string(kStaticUid), "etcd", hex_id('e')}));
}

TEST_F(SimulatedNode, HybridHostPrefersTheUnifiedLine) {
  // systemd's name= hierarchy says something else; the v2 line wins, then memory.
  const std::string text = "1:name=systemd:/system.slice/containerd.service\n4:memory:/kubepods/burstable/pod" +
                           std::string(kUidD) + "/" + hex_id('f') + "\n0::/kubepods.slice/kubepods-pod" +
                           underscores(kUidA) + ".slice/cri-containerd-" + hex_id('a') + ".scope\n";
  EXPECT_EQ(resolve_file(text).container, "app");
  EXPECT_EQ(resolve_file("1:name=systemd:/\n4:memory:/kubepods/burstable/pod" + std::string(kUidD) + "/" + hex_id('f') +
                         "\n0::/\n")
                .container,
            "redis");
}

TEST_F(SimulatedNode, UidWithoutLogDirectoryGivesUidAndIdOnly) {
  const auto id =
      resolve_file(v2_cgroup_file("/kubepods/besteffort/pod" + std::string(kNoLogsUid) + "/" + hex_id('9')));
  EXPECT_EQ(id, (PodIdentity{"", "", std::string(kNoLogsUid), "", hex_id('9')}));
}

TEST_F(SimulatedNode, SandboxAndUnknownContainersGetThePodButNoContainerName) {
  // The pause container has no log: its ID is known, its name is not guessed.
  const auto pause = resolve_file(v2_cgroup_file("/kubepods.slice/kubepods-pod" + underscores(kUidA) +
                                                 ".slice/cri-containerd-" + hex_id('0') + ".scope"));
  EXPECT_EQ(pause, (PodIdentity{"shop", "web-7d9f8-abcde", std::string(kUidA), "", hex_id('0')}));
  // Another pod's container ID in this pod's cgroup: not this pod's container.
  const auto crossed = resolver->resolve("/kubepods/pod" + std::string(kUidA) + "/" + hex_id('c'));
  EXPECT_EQ(crossed.container, "");
  EXPECT_EQ(crossed.pod, "web-7d9f8-abcde");
}

TEST_F(SimulatedNode, UnknownPathsAreEmpty) {
  EXPECT_TRUE(resolve_file("0::/system.slice/kubelet.service\n").empty());
  EXPECT_TRUE(resolve_file(v1_cgroup_file("/docker/" + hex_id('a'))).empty());
  EXPECT_TRUE(resolve_file("").empty());
  EXPECT_TRUE(resolver->resolve(std::vector<CgroupMembership>{}).empty());
  EXPECT_EQ(resolver->resolve("/user.slice"), PodIdentity{});
}

TEST_F(SimulatedNode, AmbiguousNameJoinIsNotGuessed) {
  // The same StatefulSet pod recreated: two UIDs under one name, and a
  // Docker-style log link that does not name the UID.
  const std::string old_uid = "12121212-3434-4565-8787-909090909090";
  write_file(log_root / "pods" / ("legacy_api-0_" + old_uid) / "api" / "0.log", "x\n");
  resolver->refresh();
  const auto id = resolver->resolve("/kubepods/pod" + std::string(kUidC) + "/" + hex_id('d'));
  EXPECT_EQ(id, (PodIdentity{"legacy", "api-0", std::string(kUidC), "", hex_id('d')}));
}

TEST_F(SimulatedNode, RefreshIndexesOnceAndFollowsChanges) {
  EXPECT_EQ(resolver->pods_indexed(), 5u);
  const std::string path = "/kubepods/besteffort/pod" + std::string(kNoLogsUid) + "/" + hex_id('9');
  add_kubelet_container_log(log_root, "late", "newcomer", kNoLogsUid, "main", hex_id('9'));
  EXPECT_EQ(resolver->resolve(path).pod, "") << "no directory listing until refresh()";
  resolver->refresh();
  EXPECT_EQ(resolver->resolve(path), (PodIdentity{"late", "newcomer", std::string(kNoLogsUid), "main", hex_id('9')}));
  fs::remove_all(log_root / "pods" / ("late_newcomer_" + std::string(kNoLogsUid)));
  fs::remove(log_root / "containers" / ("newcomer_late_main-" + hex_id('9') + ".log"));
  resolver->refresh();
  EXPECT_EQ(resolver->resolve(path), (PodIdentity{"", "", std::string(kNoLogsUid), "", hex_id('9')}));
}

// Re-listing every round would cost milliseconds on a full node: the
// directories are read again only when their modification times say the
// kubelet changed them (or a listing was too close to a change to tell).
TEST_F(SimulatedNode, LogDirectoriesAreReadAgainOnlyWhenChanged) {
  KubeletLogSource source(log_root);
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(log_root / "pods", an_hour_ago);
  fs::last_write_time(log_root / "containers", an_hour_ago);
  EXPECT_TRUE(source.may_have_changed()) << "never listed";
  EXPECT_EQ(source.list_pods().size(), 5u);
  EXPECT_FALSE(source.may_have_changed()) << "nothing changed since";
  add_kubelet_container_log(log_root, "late", "newcomer", kNoLogsUid, "main", hex_id('9'));
  EXPECT_TRUE(source.may_have_changed()) << "the kubelet added a container";
  EXPECT_EQ(source.list_pods().size(), 6u);
  EXPECT_TRUE(source.may_have_changed()) << "listed within a second of a change: not trusted yet";
}

TEST_F(SimulatedNode, GarbageInTheLogDirectoriesIsSkipped) {
  write_file(log_root / "pods" / "not-a-pod-dir" / "x" / "0.log", "");
  write_file(log_root / "pods" / "a_b_c_d" / "x" / "0.log", "");
  write_file(log_root / "containers" / "random.log", "");
  write_file(log_root / "containers" / ("p_n_c-" + hex_id('a') + ".txt"), "");
  write_file(log_root / "containers" / ("p_n-" + hex_id('a') + ".log"), "");
  resolver->refresh();
  EXPECT_EQ(resolver->pods_indexed(), 5u);
  EXPECT_EQ(resolver->resolve("/kubepods/pod" + std::string(kUidA) + "/" + hex_id('a')).container, "app");
}

TEST(PodIdentityResolver, MissingLogRootLeavesNamesEmpty) {
  TempDir host;
  PodIdentityResolver resolver(host.path() / "var" / "log");
  resolver.refresh();
  EXPECT_EQ(resolver.pods_indexed(), 0u);
  const auto id = resolver.resolve("/kubepods/pod" + std::string(kUidA) + "/" + hex_id('a'));
  EXPECT_EQ(id, (PodIdentity{"", "", std::string(kUidA), "", hex_id('a')}));
}

TEST(PodLabels, OnlyKnownFieldsAndNeverTheContainerId) {
  EXPECT_TRUE(pod_labels(PodIdentity{}).empty());
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(pod_labels(PodIdentity{"shop", "web-0", std::string(kUidA), "app", hex_id('a')}),
            (Labels{{"namespace", "shop"}, {"pod", "web-0"}, {"pod_uid", std::string(kUidA)}, {"container", "app"}}));
  EXPECT_EQ(pod_labels(PodIdentity{"", "", std::string(kUidA), "", hex_id('a')}),
            (Labels{{"pod_uid", std::string(kUidA)}}));
}

// Any source fits: here a fixed list, as a kubelet API client would give.
class FixedSource : public PodSource {
 public:
  std::vector<PodRecord> list_pods() override {
    ++calls;
    return {PodRecord{"ns", "p", std::string(kUidA), {{hex_id('a'), "c"}}}};
  }
  int calls = 0;
};

TEST(PodIdentityResolver, OtherSourcesPlugIn) {
  auto source = std::make_unique<FixedSource>();
  auto* raw = source.get();
  PodIdentityResolver resolver(std::move(source));
  resolver.refresh();
  for (int i = 0; i < 100; ++i) resolver.resolve("/kubepods/pod" + std::string(kUidA) + "/" + hex_id('a'));
  EXPECT_EQ(raw->calls, 1) << "resolve() must not list pods";
  EXPECT_EQ(resolver.resolve("/kubepods/pod" + std::string(kUidA) + "/" + hex_id('a')),
            (PodIdentity{"ns", "p", std::string(kUidA), "c", hex_id('a')}));
}

}  // namespace
}  // namespace lw
