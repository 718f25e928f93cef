// The agent as the DaemonSet runs it: the DaemonSet's own arguments (read
// from deploy/base/daemonset.yaml), its host mounts laid out under a
// simulated host root with kubelet log directories, a cgroup namespace of
// its own, and, where setpriv and setcap exist, its security context: uid
// 65534, no_new_privs, bounding set {BPF, PERFMON}, the binary's file
// capabilities as the image sets them.
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "../unit/fake_files.h"
#include "bpf_test_support.h"
#include "collect/procfs.h"
#include "running_agent.h"
#include "test_cgroup.h"

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
        target = kubelet_logs() / fs::path(m.host_path).lexically_relative("/var/log");
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
  // The DaemonSet's arguments with container paths moved under this root;
  // a directory above mounts (--host-root /host, above /host/proc) too.
  std::vector<std::string> remap(std::vector<std::string> args) const {
    for (auto& arg : args) {
      for (const auto& path : remapped_) {
        if (arg == path || arg.starts_with(path + "/") || path.starts_with(arg + "/")) {
          arg = under(arg).string();
          break;
        }
      }
    }
    return args;
  }
  // The host's /var/log as the simulated kubelet fills it.
  fs::path kubelet_logs() const { return dir_.path() / "node" / "var" / "log"; }
  const fs::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::vector<std::string> remapped_;
};

// The agent as its container runs it: in a cgroup of its own with a cgroup
// namespace rooted there (what containerd and CRI-O give every container on
// cgroup v2), and, where setpriv and setcap exist, with the pod's security
// context, emulated on a copy of the agent that carries the image's file
// capabilities. Returns a wrapper script to run instead of the agent.
struct ContainerizedAgent {
  std::string command;
  bool unprivileged = false;
};

ContainerizedAgent agent_in_its_container(const fs::path& dir, const TestCgroup& container_cgroup) {
  std::string agent = LW_AGENT_PATH;
  bool unprivileged = false;
  if (geteuid() == 0 && on_path("setpriv") && on_path("setcap")) {
    const fs::path copy = dir / "leakwatch-agent";
    fs::copy_file(LW_AGENT_PATH, copy);
    if (std::system(("setcap cap_bpf,cap_perfmon+ep " + copy.string()).c_str()) == 0) {
      agent =
          "setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all "
          "--bounding-set=-all,+bpf,+perfmon -- " +
          copy.string();
      unprivileged = true;
    }
  }
  const fs::path wrapper = dir / "as-in-the-pod.sh";
  write_file(wrapper,
             "#!/bin/sh\n" + container_cgroup.enter_command() + " && exec unshare --cgroup " + agent + " \"$@\"\n");
  fs::permissions(wrapper, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  return {wrapper.string(), unprivileged};
}

std::string namespace_link(pid_t pid) {
  std::error_code error;
  return fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "ns" / "cgroup", error).string();
}

class DaemonSetAgentTest : public BpfTest {};

// The DaemonSet's exact arguments and mounts, the container's cgroup
// namespace and security context, and a process of a simulated pod: its
// series carry the host's cgroup path and the pod's identity.
TEST_F(DaemonSetAgentTest, LabelsAPodsProcessWithItsIdentityFromInsideTheContainer) {
  const DaemonSetSpec spec = read_daemonset();
  ASSERT_FALSE(spec.args.empty());
  const SimulatedNodeRoot node(spec);
  const std::string tag = std::to_string(getpid());
  const std::string uid = "6f2c1a4e-9b1d-4c1e-8a57-" + fmt::format("{:012d}", getpid());
  const std::string container_id = fmt::format("{:064x}", getpid());
  add_kubelet_container_log(node.kubelet_logs(), "shop", "web-0", uid, "app", container_id);
  TestCgroup pod_container("leakwatch-test-deploy-" + tag + "/kubepods/burstable/pod" + uid + "/" + container_id);
  TestCgroup agent_container("leakwatch-test-deploy-agent-" + tag);
  const ContainerizedAgent containerized = agent_in_its_container(node.path(), agent_container);
  if (!containerized.unprivileged) std::cout << "setpriv or setcap missing: the agent runs as this test's user\n";

  std::vector<std::string> args = node.remap(spec.args);
  args.insert(args.end(), {"--cgroup-prefix", "/leakwatch-test-deploy-" + tag + "/"});
  RunningAgent agent(containerized.command, args);

  constexpr int kConns = 5;
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "1000"});
  const std::string port = server->expect_line("ready ");
  ChildProcess client(pod_container.wrap({LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--port", port, "--count",
                                          std::to_string(kConns), "--max-seconds", "60"}));
  client.expect_line("ready ");

  const std::map<std::string, std::string> me{{"pid", std::to_string(client.pid())}, {"type", "tcp"}};
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_sockets", me) == kConns;
  })) << "the client's sockets never showed; agent log:\n"
      << agent.log();
  const auto samples = s.find("leakwatch_process_sockets", me);
  ASSERT_EQ(samples.size(), 1u);
  const std::map<std::string, std::string> identity{{"cgroup", pod_container.path()},
                                                    {"namespace", "shop"},
                                                    {"pod", "web-0"},
                                                    {"pod_uid", uid},
                                                    {"container", "app"}};
  for (const auto& [name, value] : identity) {
    EXPECT_EQ(samples[0].labels.contains(name) ? samples[0].labels.at(name) : "", value) << name << "; agent log:\n"
                                                                                         << agent.log();
  }
  // The cgroup's memory files were found through the rewritten host path.
  EXPECT_GT(s.value("leakwatch_cgroup_memory_usage_bytes", identity).value_or(0), 0) << agent.log();
  EXPECT_EQ(s.value("leakwatch_snapshots_total", {{"result", "failed"}}), 0) << agent.log();
  EXPECT_NE(agent.log().find("cgroup namespace rooted at " + agent_container.path()), std::string::npos) << agent.log();

  const pid_t agent_pid = agent.process().pid();
  EXPECT_NE(namespace_link(agent_pid), namespace_link(getpid())) << "the agent has a cgroup namespace of its own";
  if (containerized.unprivileged) {
    const auto status = read_text_file(fs::path("/proc") / std::to_string(agent_pid) / "status");
    ASSERT_TRUE(status);
    EXPECT_NE(status->find("\nUid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << *status;
    EXPECT_NE(status->find("\nCapEff:\t000000c000000000\n"), std::string::npos) << "only BPF and PERFMON";
    EXPECT_NE(status->find("\nNoNewPrivs:\t1\n"), std::string::npos);
  }
}

}  // namespace
}  // namespace lw::test
