#include "collect/node_stats.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "fake_files.h"
#include "fixture.h"

#include "collect/procfs.h"
#include "util/error.h"

namespace lw {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::TempDir;
using test::write_file;

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Every field with its name, so a failure says which one differs.
constexpr std::pair<std::string_view, std::optional<uint64_t> NodeSocketStats::*> kSocketStatsFields[] = {
    {"sockets_used", &NodeSocketStats::sockets_used}, {"tcp_inuse", &NodeSocketStats::tcp_inuse},
    {"tcp_orphan", &NodeSocketStats::tcp_orphan},     {"tcp_tw", &NodeSocketStats::tcp_tw},
    {"tcp_alloc", &NodeSocketStats::tcp_alloc},       {"tcp_mem_pages", &NodeSocketStats::tcp_mem_pages},
    {"udp_inuse", &NodeSocketStats::udp_inuse},       {"udp_mem_pages", &NodeSocketStats::udp_mem_pages},
    {"tcp6_inuse", &NodeSocketStats::tcp6_inuse},     {"udp6_inuse", &NodeSocketStats::udp6_inuse},
};

void expect_same(const NodeSocketStats& actual, const NodeSocketStats& expected) {
  for (const auto& [name, field] : kSocketStatsFields) EXPECT_EQ(actual.*field, expected.*field) << name;
}

void expect_all_unknown(const NodeSocketStats& stats) { expect_same(stats, NodeSocketStats{}); }

// --- parse_sockstat ----------------------------------------------------------

TEST(ParseSockstat, EveryFieldOfARealNode) {
  expect_same(parse_sockstat(fixture("sockstat.txt"), fixture("sockstat6.txt")), NodeSocketStats{.sockets_used = 46,
                                                                                                 .tcp_inuse = 22,
                                                                                                 .tcp_orphan = 0,
                                                                                                 .tcp_tw = 3,
                                                                                                 .tcp_alloc = 25,
                                                                                                 .tcp_mem_pages = 106,
                                                                                                 .udp_inuse = 8,
                                                                                                 .udp_mem_pages = 0,
                                                                                                 .tcp6_inuse = 3,
                                                                                                 .udp6_inuse = 2});
}

TEST(ParseSockstat, MissingSockstat6LeavesIpv6Unknown) {
  const auto stats = parse_sockstat(fixture("sockstat.txt"), "");
  EXPECT_EQ(stats.tcp_inuse, 22u);
  EXPECT_FALSE(stats.tcp6_inuse);
  EXPECT_FALSE(stats.udp6_inuse);
}

TEST(ParseSockstat, EmptyAndGarbageAreUnknown) {
  expect_all_unknown(parse_sockstat("", ""));
  expect_all_unknown(parse_sockstat("\n\n", "\n"));
  expect_all_unknown(parse_sockstat("not a sockstat file\n", "\x01\x02\xff\n"));
  expect_all_unknown(parse_sockstat("TCP: inuse many orphan -1 tw 1e3 alloc 0x10 mem\n", "TCP6: inuse\n"));
}

TEST(ParseSockstat, CutShortKeepsOnlyCompleteValues) {
  // The cut fell inside "mem 106": 10 could be 106 or 1060, so mem is unknown.
  const auto stats = parse_sockstat("sockets: used 46\nTCP: inuse 22 orphan 0 tw 3 alloc 25 mem 10", "");
  EXPECT_EQ(stats.sockets_used, 46u);
  EXPECT_EQ(stats.tcp_alloc, 25u);
  EXPECT_FALSE(stats.tcp_mem_pages);
  EXPECT_FALSE(stats.udp_inuse);
}

TEST(ParseSockstat, CutAfterANameLeavesItUnknown) {
  const auto stats = parse_sockstat("sockets: used 46\nTCP: inuse 22 orphan 0 tw \n", "");
  EXPECT_EQ(stats.tcp_orphan, 0u);
  EXPECT_FALSE(stats.tcp_tw);
}

TEST(ParseSockstat, FieldsAreReadByNameNotPosition) {
  NodeSocketStats expected;
  expected.tcp_inuse = 3;
  expected.tcp_orphan = 4;
  expected.tcp_tw = 5;
  expected.tcp_alloc = 6;
  expected.tcp_mem_pages = 7;
  expect_same(parse_sockstat("TCP: mem 7 alloc 6 tw 5 orphan 4 inuse 3 extra 9\n", ""), expected);
}

TEST(ParseSockstat, OtherProtocolsDoNotLeakIn) {
  // UDPLITE and FRAG carry "inuse" and "memory" too; only UDP's count.
  const auto stats = parse_sockstat("UDPLITE: inuse 5\nFRAG: inuse 1 memory 9\n", "UDPLITE6: inuse 4\n");
  EXPECT_FALSE(stats.udp_inuse);
  EXPECT_FALSE(stats.udp_mem_pages);
  EXPECT_FALSE(stats.udp6_inuse);
}

// --- parse_tcp_mem -----------------------------------------------------------

TEST(ParseTcpMem, RealLimits) {
  const auto limits = parse_tcp_mem(fixture("tcp_mem.txt"));
  ASSERT_TRUE(limits);
  EXPECT_EQ(limits->min_pages, 287901u);
  EXPECT_EQ(limits->pressure_pages, 383868u);
  EXPECT_EQ(limits->max_pages, 575802u);
}

TEST(ParseTcpMem, MalformedIsUnknown) {
  for (const auto* text :
       {"", "\n", "287901\t383868\n", "1 2 3 4\n", "1 two 3\n", "-1 2 3\n", "1 2 3x\n", "287901\t383868\t5758"}) {
    EXPECT_FALSE(parse_tcp_mem(text)) << "input: '" << text << "'";
  }
}

// --- read_node_stats and list_pids on a fake host ------------------------------

TEST(ReadNodeStats, ReadsTheHostNamespaceThroughPid1) {
  TempDir host;
  write_file(host.path() / "1/net/sockstat", fixture("sockstat.txt"));
  write_file(host.path() / "1/net/sockstat6", fixture("sockstat6.txt"));
  write_file(host.path() / "sys/net/ipv4/tcp_mem", fixture("tcp_mem.txt"));
  // What a pod's own namespace would say: must not be what we report.
  write_file(host.path() / "net/sockstat", "TCP: inuse 999\n");

  const auto stats = read_node_stats(HostPaths{.proc = host.path(), .cgroup = host.path()});
  EXPECT_EQ(stats.sockets.tcp_inuse, 22u);
  EXPECT_EQ(stats.sockets.udp6_inuse, 2u);
  ASSERT_TRUE(stats.tcp_mem);
  EXPECT_EQ(stats.tcp_mem->max_pages, 575802u);
  EXPECT_EQ(stats.page_size, static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
}

TEST(ReadNodeStats, MissingFilesAreUnknown) {
  TempDir host;
  const auto stats = read_node_stats(HostPaths{.proc = host.path(), .cgroup = host.path()});
  expect_all_unknown(stats.sockets);
  EXPECT_FALSE(stats.tcp_mem);
  EXPECT_GT(stats.page_size, 0u);
}

TEST(ListPids, OnlyNumericDirectoriesAscending) {
  TempDir host;
  for (const auto* name : {"42/stat", "7/stat", "1/stat", "self/stat", "net/sockstat", "12abc/stat", "0/stat"}) {
    write_file(host.path() / name, "");
  }
  EXPECT_EQ(list_pids(HostPaths{.proc = host.path(), .cgroup = host.path()}), (std::vector<pid_t>{1, 7, 42}));
}

TEST(ListPids, UnreadableProcIsAnIoError) {
  try {
    list_pids(HostPaths{.proc = "/nonexistent/leakwatch-proc", .cgroup = "/"});
    FAIL() << "no lw::Error thrown";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::io);
    EXPECT_NE(std::string(error.what()).find("/nonexistent/leakwatch-proc"), std::string::npos);
  }
}

// --- the real /proc ------------------------------------------------------------

TEST(RealProc, NodeStatsArePresent) {
  const auto stats = read_node_stats(HostPaths{});
  EXPECT_TRUE(stats.sockets.sockets_used);
  EXPECT_TRUE(stats.sockets.tcp_inuse);
  EXPECT_TRUE(stats.sockets.tcp_mem_pages);
  ASSERT_TRUE(stats.tcp_mem);
  EXPECT_LE(stats.tcp_mem->min_pages, stats.tcp_mem->max_pages);
}

TEST(RealProc, ListsOurProcessButNotOurThreads) {
  std::promise<pid_t> thread_id;
  std::promise<void> done;
  std::thread thread([&] {
    thread_id.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
    done.get_future().wait();
  });
  const auto tid = thread_id.get_future().get();
  const auto pids = list_pids(HostPaths{});
  done.set_value();
  thread.join();

  EXPECT_TRUE(contains(pids, ::getpid()));
  EXPECT_FALSE(contains(pids, tid));
}

}  // namespace
}  // namespace lw
