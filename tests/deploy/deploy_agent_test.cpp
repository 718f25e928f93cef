// The agent as the DaemonSet runs it: the DaemonSet's own arguments (read
// from deploy/base/daemonset.yaml), its host mounts laid out under a
// simulated host root, and, where setpriv and setcap exist, its security
// context: uid 65534, no_new_privs, bounding set {BPF, PERFMON}, the
// binary's file capabilities as the image sets them.
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bpf_test_support.h"
#include "leakwatch/pod_identity.h"
#include "running_agent.h"
#include "test_cgroup.h"
#include "../unit/fake_files.h"

namespace lw::test {
namespace {

namespace fs = std::filesystem;

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buffer;
  while (const size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  if (::pclose(pipe) != 0) throw std::runtime_error(command + " failed: " + out);
  return out;
}

struct Mount {
  std::string mount_path, host_path;
};

struct DaemonSetSpec {
  std::vector<std::string> args;
  std::vector<Mount> mounts;
};

DaemonSetSpec read_daemonset() {
  const auto json = nlohmann::json::parse(run_command(std::string(LW_NODE) + " " + LW_DAEMONSET_SPEC_SCRIPT));
  DaemonSetSpec spec;
  spec.args = json.at("args").get<std::vector<std::string>>();
  for (const auto& m : json.at("mounts")) spec.mounts.push_back({m.at("mountPath"), m.at("hostPath")});
  return spec;
}

bool on_path(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// A node laid out as the agent's container sees it: every host mount of the
// DaemonSet at <root><mountPath>, pointing at the real /proc and
// /sys/fs/cgroup, and at simulated kubelet log directories.
class SimulatedNodeRoot {
 public:
  explicit SimulatedNodeRoot(const DaemonSetSpec& spec) {
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    for (const auto& m : spec.mounts) {
      if (m.mount_path == m.host_path) continue;  // BTF: the same path inside and out
      fs::path target = m.host_path;
      if (m.host_path.starts_with("/var/log/")) {
        target = dir_.path() / "node" / fs::path(m.host_path).relative_path();
        fs::create_directories(target);
      }
      const fs::path link = under(m.mount_path);
      fs::create_directories(link.parent_path());
      fs::create_symlink(target, link);
      remapped_.push_back(m.mount_path);
    }
  }
  fs::path under(const std::string& container_path) const {
    return dir_.path() / "root" / fs::path(container_path).relative_path();
  }
  // The DaemonSet's arguments with container paths moved under this root.
  std::vector<std::string> remap(std::vector<std::string> args) const {
    for (auto& arg : args) {
      for (const auto& path : remapped_) {
        if (arg == path || arg.starts_with(path + "/")) arg = under(arg).string();
      }
    }
    return args;
  }
  const fs::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::vector<std::string> remapped_;
};

// The DaemonSet's security context, emulated with setpriv on a copy of the
// agent that carries the image's file capabilities. Empty when the tools
// are missing: the agent then runs as this test's user.
std::string unprivileged_agent(const fs::path& dir) {
  if (geteuid() != 0 || !on_path("setpriv") || !on_path("setcap")) return {};
  const fs::path copy = dir / "leakwatch-agent";
  fs::copy_file(LW_AGENT_PATH, copy);
  if (std::system(("setcap cap_bpf,cap_perfmon+ep " + copy.string()).c_str()) != 0) return {};
  const fs::path wrapper = dir / "as-in-the-pod.sh";
  write_file(wrapper, "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs "
                      "--inh-caps=-all --bounding-set=-all,+bpf,+perfmon -- " +
                          copy.string() + " \"$@\"\n");
  fs::permissions(wrapper, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  return wrapper.string();
}

class DaemonSetAgentTest : public BpfTest {};

TEST_F(DaemonSetAgentTest, RunsWithTheDaemonSetsArgumentsAndAttributesATestCgroup) {
  const DaemonSetSpec spec = read_daemonset();
  ASSERT_FALSE(spec.args.empty());
  const SimulatedNodeRoot node(spec);
  const std::string unprivileged = unprivileged_agent(node.path());
  if (unprivileged.empty()) std::cout << "setpriv or setcap missing: the agent runs as this test's user\n";

  TestCgroup cgroup("leakwatch-test-deploy-" + std::to_string(getpid()));
  std::vector<std::string> args = node.remap(spec.args);
  args.insert(args.end(), {"--cgroup-prefix", cgroup.path()});
  RunningAgent agent(unprivileged.empty() ? LW_AGENT_PATH : unprivileged, args);

  constexpr int kConns = 5;
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "1000"});
  const std::string port = server->expect_line("ready ");
  ChildProcess client(cgroup.wrap({LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--port", port, "--count",
                                   std::to_string(kConns), "--max-seconds", "60"}));
  client.expect_line("ready ");

  const std::map<std::string, std::string> me{{"pid", std::to_string(client.pid())}, {"type", "tcp"}};
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_sockets", me) == kConns;
  })) << "the client's sockets never showed; agent log:\n" << agent.log();
  const auto samples = s.find("leakwatch_process_sockets", me);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels.at("cgroup"), cgroup.path()) << "attributed to the test's cgroup";
  EXPECT_GE(s.value("leakwatch_cgroup_processes", {{"cgroup", cgroup.path()}}).value_or(0), 1);
  EXPECT_EQ(s.value("leakwatch_snapshots_total", {{"result", "failed"}}), 0) << agent.log();
  if (!unprivileged.empty()) {
    const auto status = read_text_file(fs::path("/proc") / std::to_string(agent.process().pid()) / "status");
    ASSERT_TRUE(status);
    EXPECT_NE(status->find("\nUid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << *status;
    EXPECT_NE(status->find("\nCapEff:\t000000c000000000\n"), std::string::npos) << "only BPF and PERFMON";
    EXPECT_NE(status->find("\nNoNewPrivs:\t1\n"), std::string::npos);
  }
}

// The DaemonSet's log mounts are where kubelet_log_root("/host") looks, so
// pod identity works from inside the agent's container.
TEST(DaemonSetLayout, PodIdentityFromTheMountedKubeletLogs) {
  const DaemonSetSpec spec = read_daemonset();
  const SimulatedNodeRoot node(spec);
  const std::string uid = "6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10", id(64, 'a');
  const fs::path logs = kubelet_log_root(node.under("/host"));
  write_file(logs / "pods" / ("shop_web-0_" + uid) / "app" / "0.log", "x\n");
  fs::create_symlink("/var/log/pods/shop_web-0_" + uid + "/app/0.log",
                     logs / "containers" / ("web-0_shop_app-" + id + ".log"));
  PodIdentityResolver resolver(logs);
  resolver.refresh();
  std::string systemd_uid = uid;
  std::replace(systemd_uid.begin(), systemd_uid.end(), '-', '_');
  const auto identity = resolver.resolve(parse_cgroup_file(
      "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + systemd_uid +
      ".slice/cri-containerd-" + id + ".scope\n"));
  EXPECT_EQ(identity, (PodIdentity{"shop", "web-0", uid, "app", id}));
}

}  // namespace
}  // namespace lw::test
