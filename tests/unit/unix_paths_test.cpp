#include "collect/unix_paths.h"

#include <gtest/gtest.h>

#include "fake_files.h"

namespace lw {
namespace {

using test::TempDir;
using test::write_file;

// As the kernel prints it: a listener, an accepted connection (same path),
// a connection still in the listener's queue (inode 0), an abstract name,
// an unnamed socket, and a path with a space.
constexpr std::string_view kTable =
    "Num       RefCount Protocol Flags    Type St Inode Path\n"
    "0000000052d119ce: 00000002 00000000 00010000 0001 01 1785232 /run/gunicorn.sock\n"
    "00000000be867e40: 00000003 00000000 00000000 0001 03 1785240 /run/gunicorn.sock\n"
    "000000004c6277a5: 00000003 00000000 00000000 0001 02     0 /run/gunicorn.sock\n"
    "0000000071f3a1c2: 00000002 00000000 00010000 0001 01 22001 @/containerd-shim/k8s.io/abc.sock@\n"
    "00000000a1b2c3d4: 00000003 00000000 00000000 0001 03 22002\n"
    "00000000a1b2c3d5: 00000002 00000000 00010000 0001 01 22003 /tmp/with space.sock\n";

TEST(UnixPaths, NamedSocketsOfTheTableByInode) {
  const auto names = parse_proc_net_unix(kTable);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].inode, 1785232u);
  EXPECT_EQ(names[0].path, "/run/gunicorn.sock");
  EXPECT_EQ(names[1].inode, 1785240u);
  EXPECT_EQ(names[2].inode, 22001u);
  EXPECT_EQ(names[2].path, "@/containerd-shim/k8s.io/abc.sock@");
  EXPECT_EQ(names[3].path, "/tmp/with space.sock");
}

TEST(UnixPaths, ALineCutShortOrGarbledIsSkipped) {
  EXPECT_TRUE(parse_proc_net_unix("").empty());
  EXPECT_TRUE(parse_proc_net_unix("Num RefCount Protocol Flags Type St Inode Path\n").empty());
  const std::string header = "Num RefCount Protocol Flags Type St Inode Path\n";
  // No newline: the read may have ended mid-path.
  EXPECT_TRUE(parse_proc_net_unix(header + "0000: 00000002 00000000 00010000 0001 01 77 /run/gunic").empty());
  EXPECT_TRUE(parse_proc_net_unix(header + "0000: 00000002 00000000 00010000 0001 01 x77 /run/a.sock\n").empty());
  EXPECT_TRUE(parse_proc_net_unix(header + "0000: 00000002 00000000 01 77 /run/a.sock\n").empty());
  const auto bytes = parse_proc_net_unix(header + "0000: 00000002 00000000 00010000 0001 01 77 /run/\xff.sock\n");
  ASSERT_EQ(bytes.size(), 1u);
  EXPECT_EQ(bytes[0].path, "/run/\xEF\xBF\xBD.sock") << "label values must be valid UTF-8";
}

ListenerQueue unix_listener(uint64_t inode) {
  return {.waiting = 1, .limit = 8, .path = "socket:[" + std::to_string(inode) + "]", .unix_inode = inode};
}

NodeSample sample_of(pid_t pid, std::vector<ListenerQueue> listeners) {
  NodeSample s;
  ProcessSample p;
  p.key.pid = pid;
  p.cgroup = "/pod";
  p.sockets.listeners = listeners;
  s.processes.push_back(p);
  s.cgroups["/pod"].sockets.listeners = listeners;
  return s;
}

// A listener keeps its path for its life: its process's table is read the
// first round it is seen, and not again while it is seen.
TEST(UnixPaths, EachListenerIsLookedUpOnceWhileItIsSeen) {
  TempDir host;
  const auto table = host.path() / "proc/4242/net/unix";
  write_file(table, kTable);
  UnixListenerPaths paths(HostPaths{.proc = host.path() / "proc"});

  auto first = sample_of(4242, {unix_listener(1785232), {8000, 2, 128}});
  paths.name(first);
  EXPECT_EQ(first.processes[0].sockets.listeners[0].path, "/run/gunicorn.sock");
  EXPECT_EQ(first.processes[0].sockets.listeners[1].path, "") << "a TCP listener has a port";
  EXPECT_EQ(first.cgroups["/pod"].sockets.listeners[0].path, "/run/gunicorn.sock");

  write_file(table, "Num RefCount Protocol Flags Type St Inode Path\n");
  auto second = sample_of(4242, {unix_listener(1785232), unix_listener(99)});
  paths.name(second);
  EXPECT_EQ(second.processes[0].sockets.listeners[0].path, "/run/gunicorn.sock") << "kept while it is seen";
  EXPECT_EQ(second.processes[0].sockets.listeners[1].path, "socket:[99]") << "not in the table: its inode";

  auto without = sample_of(4242, {});
  paths.name(without);  // a round without it: forgotten
  auto later = sample_of(4242, {unix_listener(1785232)});
  paths.name(later);
  EXPECT_EQ(later.processes[0].sockets.listeners[0].path, "socket:[1785232]") << "read again, and gone from it";
}

}  // namespace
}  // namespace lw
