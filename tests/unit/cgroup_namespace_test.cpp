// Cgroup paths read from inside a cgroup namespace, rewritten to the host's
// names, on fake hosts.
#include <gtest/gtest.h>

#include "collect/cgroup.h"
#include "collect/cgroup_namespace.h"
#include "fake_files.h"

namespace lw::test {
namespace {

constexpr pid_t kSelf = 4242;

TEST(HostCgroupPath, ResolvesParentsAgainstTheRoot) {
  EXPECT_EQ(host_cgroup_path("/a/b", "/../c"), "/a/c");
  EXPECT_EQ(host_cgroup_path("/a/b", "/../../kubepods/pod1/x"), "/kubepods/pod1/x");
  EXPECT_EQ(host_cgroup_path("/a/b", "/"), "/a/b");
  EXPECT_EQ(host_cgroup_path("/a/b", "/sub/"), "/a/b/sub");
  EXPECT_EQ(host_cgroup_path("/a", "/../../.."), "/") << "never above the hierarchy's root";
}

// A hybrid host: the v1 memory hierarchy and the unified one below it.
class NamespacedAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    paths.proc = host.path() / "proc";
    paths.cgroup = host.path() / "cgroup";
    write_file(paths.cgroup / "unified" / "cgroup.controllers", "memory pids\n");
    write_file(paths.cgroup / "memory" / "cgroup.procs", "1\n");
  }
  void own_cgroups(const std::string& text) { write_file(paths.proc / std::to_string(kSelf) / "cgroup", text); }
  void init_cgroups(const std::string& text) { write_file(paths.proc / "1" / "cgroup", text); }
  void procs(const std::string& hierarchy, const std::string& path, const std::string& pids) {
    write_file(paths.cgroup / hierarchy / path / "cgroup.procs", pids);
  }
  // The lines of a /proc/PID/cgroup text after the rewrite.
  static std::vector<CgroupMembership> rewritten(const CgroupNamespace& ns, const std::string& text) {
    auto lines = parse_cgroup_file(text);
    ns.to_host_paths(lines);
    return lines;
  }

  TempDir host;
  HostPaths paths;
};

TEST_F(NamespacedAgent, FindsTheRootInEachHierarchyAndRewritesPaths) {
  init_cgroups("4:memory:/..\n0::/../../..\n");
  own_cgroups("4:memory:/\n0::/\n");
  // Decoys at the right depth, and the agent's PID one level too deep.
  procs("unified", "kubepods.slice/kubepods-pod1.slice/other", "77\n4242000\n");
  procs("unified", "kubepods.slice/kubepods-pod1.slice/agent", "77\n4242\n");
  procs("unified", "kubepods.slice/kubepods-pod1.slice/agent/deeper", "4242\n");
  procs("memory", "leakwatch", "4242\n");
  procs("memory", "system", "1\n");

  const auto ns = CgroupNamespace::discover(paths, kSelf);
  EXPECT_EQ(ns.unified().path, "/kubepods.slice/kubepods-pod1.slice/agent");
  EXPECT_TRUE(ns.unified().found);
  EXPECT_EQ(ns.memory().path, "/leakwatch");

  const auto lines =
      rewritten(ns, "5:cpu:/../x\n4:memory:/../shop/web\n0::/../../../kubepods.slice/kubepods-pod2.slice/c\n");
  EXPECT_EQ(lines[0].path, "/../x") << "hierarchies the agent does not read are left alone";
  EXPECT_EQ(lines[1].path, "/shop/web");
  EXPECT_EQ(lines[2].path, "/kubepods.slice/kubepods-pod2.slice/c");
  write_file(paths.cgroup / "memory" / "shop" / "web" / "memory.usage_in_bytes", "5\n");
  const auto location = locate_memory_cgroup(paths, lines);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->path, "/shop/web") << "v1 memory wins on a hybrid host";
}

TEST_F(NamespacedAgent, AgentBelowItsNamespaceRoot) {
  init_cgroups("0::/../..\n");
  own_cgroups("0::/agent\n");
  procs("unified", "pods/p1/agent", "4242\n");
  const auto ns = CgroupNamespace::discover(paths, kSelf);
  EXPECT_EQ(ns.unified().path, "/pods/p1");
  EXPECT_EQ(rewritten(ns, "0::/../p2/c\n")[0].path, "/pods/p2/c");
}

TEST_F(NamespacedAgent, TheHostsNamespaceRewritesNothing) {
  init_cgroups("4:memory:/\n0::/init.scope\n");
  own_cgroups("4:memory:/user\n0::/user.slice/x\n");
  const auto ns = CgroupNamespace::discover(paths, kSelf);
  EXPECT_EQ(ns.unified().path, "/");
  EXPECT_EQ(ns.memory().path, "/");
  EXPECT_EQ(rewritten(ns, "0::/a/b\n")[0].path, "/a/b");
}

// Unknown stays unknown: a relative path is never joined below the host's
// mount, where it would name some other directory.
TEST_F(NamespacedAgent, RootNotFoundLeavesPathsRelativeAndUnlocated) {
  init_cgroups("4:memory:/..\n0::/..\n");
  own_cgroups("4:memory:/\n0::/\n");
  procs("unified", "somewhere", "1\n");
  const auto ns = CgroupNamespace::discover(paths, kSelf);
  EXPECT_FALSE(ns.unified().found);
  EXPECT_FALSE(ns.memory().found);
  const auto lines = rewritten(ns, "4:memory:/../memory\n0::/../somewhere\n");
  EXPECT_EQ(lines[1].path, "/../somewhere");
  EXPECT_FALSE(locate_memory_cgroup(paths, lines)) << "'/../memory' would otherwise name the hierarchy itself";
}

}  // namespace
}  // namespace lw::test
