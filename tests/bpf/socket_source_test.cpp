// Both socket backends (the BPF iterator and netlink sock_diag with /proc)
// against real processes holding sockets in known states on loopback: every
// test runs once per backend, and the backends must agree socket by socket.
// Every number checked here is one the kernel reports.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "bpf_test_support.h"
#include "collect/netlink_sockets.h"
#include "collect/unix_paths.h"
#include "model/socket_summary.h"
#include "util/error.h"

namespace lw::test {
namespace {

constexpr uint8_t kEstablished = 1;
constexpr uint8_t kCloseWait = 8;

std::vector<SocketRecord> to_port(const std::vector<SocketRecord>& records, uint16_t port) {
  std::vector<SocketRecord> out;
  std::copy_if(records.begin(), records.end(), std::back_inserter(out),
               [&](const SocketRecord& r) { return is_tcp(r) && r.remote_port == port; });
  return out;
}

bool all_of(const std::vector<SocketRecord>& records, const std::function<bool(const SocketRecord&)>& pred) {
  return std::all_of(records.begin(), records.end(), pred);
}

// A server that sends `bytes` on each of `count` connections, and a client
// process that opens them and reads nothing.
struct UnreadPair {
  std::unique_ptr<ChildProcess> server;
  std::unique_ptr<ChildProcess> client;
  uint16_t port = 0;
};

UnreadPair start_unread_pair(const std::string& address, int count, int bytes) {
  UnreadPair p;
  p.server = start_workload({"serve", "--bind", address, "--port", "0", "--send-bytes", std::to_string(bytes),
                             "--count", std::to_string(count)});
  p.port = static_cast<uint16_t>(std::stoi(p.server->expect_line("ready ")));
  p.client =
      start_workload({"connect", "--to", address, "--port", std::to_string(p.port), "--count", std::to_string(count)});
  p.client->expect_line("ready ");
  p.server->expect_line("sent ");
  return p;
}

class SocketSourceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::netlink) {
      source_ = std::make_unique<NetlinkSockets>(HostPaths{});
    } else {
      load_or_skip([&] { source_ = std::make_unique<SocketIterator>(); });
    }
  }
  SocketSource& iterator() { return *source_; }

 private:
  std::unique_ptr<SocketSource> source_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SocketSourceTest, ::testing::Values(Backend::bpf, Backend::netlink),
                         [](const auto& info) { return info.param == Backend::bpf ? "bpf" : "netlink"; });

TEST_P(SocketSourceTest, UnreadBytesThenDrainThenCloseWaitOnIpv4) {
  constexpr int kConnections = 8;
  constexpr uint32_t kBytes = 3000;
  auto pair = start_unread_pair("127.0.0.1", kConnections, kBytes);
  const pid_t pid = pair.client->pid();

  std::vector<SocketRecord> conns;
  ASSERT_TRUE(eventually([&] {
    conns = to_port(iterator().for_process(pid), pair.port);
    return conns.size() == kConnections && all_of(conns, [](const SocketRecord& r) { return r.unread == kBytes; });
  })) << "connections seen: "
      << conns.size();
  for (const auto& r : conns) {
    EXPECT_EQ(r.tgid, static_cast<uint32_t>(pid));
    EXPECT_EQ(r.family, AF_INET);
    EXPECT_EQ(r.state, kEstablished);
    EXPECT_EQ(r.bytes_received, kBytes);
    EXPECT_GE(r.rmem_alloc, kBytes) << "queued memory must cover the unread bytes";
    EXPECT_EQ(remote_endpoint(r), "127.0.0.1:" + std::to_string(pair.port));
    EXPECT_TRUE(r.flags & LW_SOCK_RCV_AGE_KNOWN);
    EXPECT_LT(r.last_rcv_age_ms, 60'000u);
  }

  pair.client->signal(SIGUSR1);
  EXPECT_EQ(pair.client->expect_line("drained "), std::to_string(kConnections * kBytes));
  conns = to_port(iterator().for_process(pid), pair.port);
  ASSERT_EQ(conns.size(), kConnections);
  for (const auto& r : conns) {
    EXPECT_EQ(r.unread, 0u);
    EXPECT_EQ(r.bytes_received, kBytes) << "bytes_received counts arrivals, not reads";
    EXPECT_EQ(r.rmem_alloc, 0u);
  }

  pair.server->signal(SIGUSR1);
  pair.server->expect_line("closed ");
  ASSERT_TRUE(eventually([&] {
    conns = to_port(iterator().for_process(pid), pair.port);
    return conns.size() == kConnections && all_of(conns, [](const SocketRecord& r) { return r.state == kCloseWait; });
  })) << "sockets whose peer closed must show CLOSE_WAIT";
  for (const auto& r : conns) {
    // The kernel counts the peer's FIN as a byte; we report payload only.
    EXPECT_EQ(r.unread, 0u);
    EXPECT_EQ(r.bytes_received, kBytes);
    EXPECT_EQ(read_position(r), kBytes) << "reading end-of-file moves no payload";
  }
}

// The identity the ledger and the close events key on: what /proc/PID/fd
// names, unchanged from one pass to the next.
TEST_P(SocketSourceTest, SocketIdentityIsTheInodeAndStableAcrossPasses) {
  constexpr int kConnections = 4;
  auto pair = start_unread_pair("127.0.0.1", kConnections, 100);
  const pid_t pid = pair.client->pid();
  const auto first = to_port(iterator().for_process(pid), pair.port);
  ASSERT_EQ(first.size(), static_cast<size_t>(kConnections));
  for (const auto& r : first) {
    struct stat st {};
    const auto link = fmt::format("/proc/{}/fd/{}", pid, r.fd);
    ASSERT_EQ(stat(link.c_str(), &st), 0) << link;
    EXPECT_EQ(r.inode, st.st_ino) << link;
  }
  const auto second = to_port(iterator().all(), pair.port);
  std::map<uint32_t, uint64_t> inode_by_fd;
  for (const auto& r : first) inode_by_fd[r.fd] = r.inode;
  size_t matched = 0;
  for (const auto& r : second) {
    if (r.tgid != static_cast<uint32_t>(pid)) continue;
    EXPECT_EQ(inode_by_fd.at(r.fd), r.inode) << "fd " << r.fd;
    matched++;
  }
  EXPECT_EQ(matched, first.size());
}

// The idle age is computed from jiffies with a tick rate the program works
// out itself (no kernel config is read): a wrong rate would scale it.
TEST_P(SocketSourceTest, IdleAgeAdvancesWithTheClock) {
  using Clock = std::chrono::steady_clock;
  auto pair = start_unread_pair("127.0.0.1", 1, 100);
  const pid_t pid = pair.client->pid();
  const auto age = [&] {
    const auto conns = to_port(iterator().for_process(pid), pair.port);
    EXPECT_EQ(conns.size(), 1u);
    EXPECT_TRUE(!conns.empty() && (conns[0].flags & LW_SOCK_RCV_AGE_KNOWN));
    return conns.empty() ? 0.0 : conns[0].last_rcv_age_ms / 1000.0;
  };
  const auto before_first = Clock::now();
  const double first = age();
  const auto after_first = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto before_second = Clock::now();
  const double second = age();
  const auto after_second = Clock::now();
  const auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  // Ages are whole milliseconds of whole ticks (10 ms at the coarsest rate),
  // at a rate measured from the clocks: under QEMU's emulated clocks (the
  // kernel matrix) it parts from the nominal one by up to about 1.5%. A
  // wrong rate is off by a factor of 2.5 at least (100, 250, 300, 1000 Hz).
  constexpr double kTick = 0.011, kRateSlack = 0.015;
  const double shortest = seconds(before_second - after_first), longest = seconds(after_second - before_first);
  EXPECT_GE(second - first, shortest * (1 - kRateSlack) - kTick);
  EXPECT_LE(second - first, longest * (1 + kRateSlack) + kTick);
}

TEST_P(SocketSourceTest, Ipv6ConnectionsAreAttributedWithTheirAddresses) {
  constexpr int kConnections = 5;
  constexpr uint32_t kBytes = 1500;
  auto pair = start_unread_pair("::1", kConnections, kBytes);

  std::vector<SocketRecord> conns;
  ASSERT_TRUE(eventually([&] {
    conns = to_port(iterator().for_process(pair.client->pid()), pair.port);
    return conns.size() == kConnections && all_of(conns, [](const SocketRecord& r) { return r.unread == kBytes; });
  }));
  for (const auto& r : conns) {
    EXPECT_EQ(r.family, AF_INET6);
    EXPECT_EQ(remote_endpoint(r), "[::1]:" + std::to_string(pair.port));
    EXPECT_EQ(local_endpoint(r).rfind("[::1]:", 0), 0u);
    EXPECT_EQ(socket_kind(r), "tcp6");
  }
  // The server side is another process: its sockets are attributed to it.
  const auto server_side = iterator().for_process(pair.server->pid());
  EXPECT_EQ(static_cast<int>(server_side.size()), kConnections + 1) << "accepted sockets plus the listener";
  EXPECT_TRUE(all_of(server_side, [&](const SocketRecord& r) {
    return r.tgid == static_cast<uint32_t>(pair.server->pid()) && r.local_port == pair.port;
  }));
}

// Each unix pair has bytes waiting at one end, one message of them partly
// read: the reader's end says how many (as SIOCINQ does, which the workload
// checked), the writer's end holds their memory in its send queue.
TEST_P(SocketSourceTest, UdpAndUnixSocketsWithTheirQueues) {
  constexpr int kUnixPairs = 3;
  constexpr uint32_t kUdpUnread = 700;
  constexpr uint32_t kUnixUnread = 7000;
  auto proc =
      start_workload({"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", std::to_string(kUnixPairs), "--unix-unread",
                      std::to_string(kUnixUnread), "--udp-unread", std::to_string(kUdpUnread)});
  const std::string ready = proc->expect_line("ready ");
  const uint16_t udp_port = static_cast<uint16_t>(std::stoi(ready.substr(ready.find("udp=") + 4)));

  const auto records = iterator().for_process(proc->pid());
  const auto unix_count = std::count_if(records.begin(), records.end(), [](const SocketRecord& r) {
    return r.family == AF_UNIX && socket_kind(r) == "unix-stream";
  });
  EXPECT_EQ(unix_count, 2 * kUnixPairs);
  const auto readers = std::count_if(records.begin(), records.end(), [&](const SocketRecord& r) {
    return is_unix_stream_end(r) && r.unread == kUnixUnread && r.wmem_alloc == 0;
  });
  const auto writers = std::count_if(records.begin(), records.end(), [&](const SocketRecord& r) {
    return is_unix_stream_end(r) && r.unread == 0 && r.wmem_alloc >= kUnixUnread;
  });
  EXPECT_EQ(readers, kUnixPairs) << "each pair's reader has its bytes waiting";
  EXPECT_EQ(writers, kUnixPairs) << "each pair's writer holds their memory";
  const auto bound = std::find_if(records.begin(), records.end(), [&](const SocketRecord& r) {
    return r.protocol == IPPROTO_UDP && r.local_port == udp_port;
  });
  ASSERT_NE(bound, records.end()) << "the bound UDP socket must be reported";
  EXPECT_EQ(socket_kind(*bound), "udp");
  EXPECT_FALSE(is_tcp(*bound));
  EXPECT_GE(bound->rmem_alloc, kUdpUnread) << "the unread datagram is in the UDP receive queue";
  EXPECT_TRUE(all_of(records, [&](const SocketRecord& r) { return r.tgid == static_cast<uint32_t>(proc->pid()); }));
}

TEST_P(SocketSourceTest, SocketCountAgreesWithProcFd) {
  auto proc = start_workload({"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", "4"});
  proc->expect_line("ready ");
  const auto records = iterator().for_process(proc->pid());
  EXPECT_EQ(records.size(), count_socket_fds(proc->pid()));
  // The whole-machine pass sees the same sockets for that process.
  const auto everything = iterator().all();
  const auto in_all = std::count_if(everything.begin(), everything.end(), [&](const SocketRecord& r) {
    return r.tgid == static_cast<uint32_t>(proc->pid());
  });
  EXPECT_EQ(static_cast<size_t>(in_all), records.size());
}

TEST_P(SocketSourceTest, SeveralThousandSocketsInOneProcess) {
  constexpr int kConnections = 4000;
  auto pair = start_unread_pair("127.0.0.1", kConnections, 100);
  const auto records = iterator().for_process(pair.client->pid());
  EXPECT_EQ(records.size(), count_socket_fds(pair.client->pid()));
  EXPECT_EQ(to_port(records, pair.port).size(), static_cast<size_t>(kConnections));
  std::vector<uint64_t> inodes;
  for (const auto& r : records) inodes.push_back(r.inode);
  std::sort(inodes.begin(), inodes.end());
  EXPECT_EQ(std::adjacent_find(inodes.begin(), inodes.end()), inodes.end()) << "socket inodes are unique";
}

// "Too few workers": connections the kernel accepted wait for the process.
TEST_P(SocketSourceTest, ListenerAcceptQueueAndItsLimit) {
  constexpr int kWaiting = 12, kBacklog = 32;
  auto server = start_workload(
      {"serve", "--bind", "127.0.0.1", "--port", "0", "--no-accept", "--backlog", std::to_string(kBacklog)});
  const std::string port = server->expect_line("ready ");
  auto client = start_workload({"connect", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(kWaiting)});
  client->expect_line("ready ");

  std::optional<SocketRecord> listener;
  ASSERT_TRUE(eventually([&] {
    listener.reset();
    for (const auto& r : iterator().for_process(server->pid())) {
      if (is_tcp_listener(r) && std::to_string(r.local_port) == port) listener = r;
    }
    return listener && listener->accept_queue == kWaiting;
  })) << "waiting: "
      << (listener ? static_cast<int>(listener->accept_queue) : -1);
  EXPECT_EQ(listener->accept_queue_limit, static_cast<uint32_t>(kBacklog));
  for (const auto& r : iterator().for_process(client->pid())) {
    EXPECT_EQ(r.accept_queue, 0u) << "only listeners have an accept queue";
  }
}

// The same behind nginx on a unix socket: connect() queues each connection
// on the listener until it is full (then EAGAIN), and the listener is
// named by the name it was bound to.
TEST_P(SocketSourceTest, UnixListenerAcceptQueueItsLimitAndItsName) {
  constexpr int kBacklog = 7;
  const std::string name = fmt::format("@leakwatch-test-backlog-{}-{}", getpid(), static_cast<int>(GetParam()));
  auto server =
      start_workload({"unix-backlog", "--path", name, "--backlog", std::to_string(kBacklog), "--connect", "10"});
  // At most backlog + 1 wait: the kernel refuses a connection only once
  // the queue holds more than the backlog.
  EXPECT_EQ(server->expect_line("ready "), fmt::format("waiting={} refused={}", kBacklog + 1, 10 - (kBacklog + 1)));

  const auto records = iterator().for_process(server->pid());
  const auto listener = std::find_if(records.begin(), records.end(), [](const auto& r) { return is_listener(r); });
  ASSERT_NE(listener, records.end());
  EXPECT_TRUE(is_unix_listener(*listener));
  EXPECT_EQ(listener->accept_queue, static_cast<uint32_t>(kBacklog + 1));
  EXPECT_EQ(listener->accept_queue_limit, static_cast<uint32_t>(kBacklog));
  EXPECT_EQ(listener->unread, 0u) << "a listener's queue holds connections, not bytes";

  auto summary = summarize_sockets(records, 5, 0);
  ASSERT_EQ(summary.listeners.size(), 1u);
  EXPECT_EQ(summary.listeners[0].path, fmt::format("socket:[{}]", listener->inode));
  EXPECT_EQ(summary.accept_queue, static_cast<uint64_t>(kBacklog + 1));
  UnixListenerPaths(HostPaths{}).name(server->pid(), summary.listeners);
  EXPECT_EQ(summary.listeners[0].path, name);
  EXPECT_EQ(listener_name(summary.listeners[0]), name);
}

TEST_P(SocketSourceTest, VanishedPidIsReportedAsExited) {
  auto proc = start_workload({"sockets", "--unix-pairs", "1"});
  proc->expect_line("ready ");
  const pid_t pid = proc->pid();
  proc->signal(SIGTERM);
  proc->wait();
  try {
    iterator().for_process(pid);
    FAIL() << "expected lw::Error(process_exited)";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::process_exited);
  }
}

}  // namespace
}  // namespace lw::test

namespace lw::test {
namespace {

// Every field the two backends both know, as "field: bpf vs netlink" for
// each that differs; the idle age may differ by the time between the passes
// and by 5% of itself.
std::string differences(const SocketRecord& b, const SocketRecord& n, uint32_t age_slack_ms) {
  std::string out;
  const auto field = [&](const char* name, auto x, auto y) {
    if (x != y) out += fmt::format(" {}: {} vs {};", name, x, y);
  };
  field("inode", b.inode, n.inode);
  field("family", b.family, n.family);
  field("type", b.type, n.type);
  field("protocol", b.protocol, n.protocol);
  field("state", b.state, n.state);
  field("flags", b.flags, n.flags);
  field("local", local_endpoint(b), local_endpoint(n));
  field("remote", remote_endpoint(b), remote_endpoint(n));
  field("rmem_alloc", b.rmem_alloc, n.rmem_alloc);
  field("rcvbuf", b.rcvbuf, n.rcvbuf);
  field("wmem_queued", b.wmem_queued, n.wmem_queued);
  field("wmem_alloc", b.wmem_alloc, n.wmem_alloc);
  field("sndbuf", b.sndbuf, n.sndbuf);
  field("forward_alloc", b.forward_alloc, n.forward_alloc);
  field("drops", b.drops, n.drops);
  field("bytes_received", b.bytes_received, n.bytes_received);
  field("bytes_acked", b.bytes_acked, n.bytes_acked);
  field("unread", b.unread, n.unread);
  field("unacked", b.unacked, n.unacked);
  field("accept_queue", b.accept_queue, n.accept_queue);
  field("accept_queue_limit", b.accept_queue_limit, n.accept_queue_limit);
  const uint32_t age_gap = b.last_rcv_age_ms > n.last_rcv_age_ms ? b.last_rcv_age_ms - n.last_rcv_age_ms
                                                                 : n.last_rcv_age_ms - b.last_rcv_age_ms;
  // The iterator turns jiffies into ms with a tick rate it measures; sock_diag
  // assumes the nominal one. Under QEMU's emulated clocks (the kernel matrix)
  // they part by up to about 1.5%.
  const uint32_t rate_slack_ms = b.last_rcv_age_ms / 20;
  if ((b.flags & LW_SOCK_RCV_AGE_KNOWN) && age_gap > age_slack_ms + rate_slack_ms) {
    field("idle ms", b.last_rcv_age_ms, n.last_rcv_age_ms);
  }
  return out;
}

// Both passes' records of the given processes, compared by (process, fd);
// empty when they agree, else what differs.
std::string compare_passes(const std::vector<SocketRecord>& bpf, const std::vector<SocketRecord>& netlink,
                           const std::set<uint32_t>& pids, uint32_t age_slack_ms) {
  std::map<std::pair<uint32_t, uint32_t>, SocketRecord> from_netlink;
  for (const auto& r : netlink) {
    if (pids.contains(r.tgid)) from_netlink.emplace(std::pair{r.tgid, r.fd}, r);
  }
  std::string out;
  size_t compared = 0;
  for (const auto& b : bpf) {
    if (!pids.contains(b.tgid)) continue;
    const auto it = from_netlink.find({b.tgid, b.fd});
    if (it == from_netlink.end()) {
      out += fmt::format("\nPID {} fd {} ({}): only in bpf", b.tgid, b.fd, socket_kind(b));
      continue;
    }
    if (const auto d = differences(b, it->second, age_slack_ms); !d.empty()) {
      out += fmt::format("\nPID {} fd {} ({} {}):{}", b.tgid, b.fd, socket_kind(b), tcp_state_name(b.state), d);
    }
    from_netlink.erase(it);
    compared++;
  }
  for (const auto& [key, r] : from_netlink)
    out += fmt::format("\nPID {} fd {}: only in netlink", key.first, key.second);
  if (compared == 0) out += "\nno socket compared";
  return out;
}

class BackendsAgree : public BpfTest {};

// A pod's sockets live in its own network namespace, where a sock_diag
// socket of ours sees nothing: the netlink backend enters each namespace it
// finds in /proc/PID/ns/net. Checked against the iterator, which sees every
// namespace.
TEST_F(BackendsAgree, InAnotherNetworkNamespace) {
  constexpr int kUdpUnread = 500;
  ChildProcess pod({"unshare", "-n", "sh", "-c",
                    fmt::format("ip link set lo up && exec {} sockets --udp-bind 127.0.0.1 --unix-pairs 2 "
                                "--udp-unread {} --max-seconds 120",
                                LW_WORKLOAD_PATH, kUdpUnread)});
  pod.expect_line("ready ");
  struct stat ours {
  }, theirs{};
  ASSERT_EQ(stat("/proc/self/ns/net", &ours), 0);
  ASSERT_EQ(stat(fmt::format("/proc/{}/ns/net", pod.pid()).c_str(), &theirs), 0);
  ASSERT_NE(ours.st_ino, theirs.st_ino) << "the workload must run in a namespace of its own";

  NetlinkSockets netlink(HostPaths{});
  const auto from_netlink = netlink.for_process(pod.pid());
  EXPECT_EQ(from_netlink.size(), count_socket_fds(pod.pid()));
  EXPECT_TRUE(std::any_of(from_netlink.begin(), from_netlink.end(), [&](const SocketRecord& r) {
    return r.protocol == IPPROTO_UDP && r.rmem_alloc >= kUdpUnread;
  })) << "the UDP socket with its unread datagram, read inside the namespace";
  EXPECT_EQ(netlink.gaps().unseen_sockets, 0u);
  const std::set<uint32_t> pid{static_cast<uint32_t>(pod.pid())};
  EXPECT_EQ(compare_passes(iterator().for_process(pod.pid()), from_netlink, pid, 1000), "");
  EXPECT_EQ(compare_passes(iterator().all(), netlink.all(), pid, 1000), "");
}

// The same sockets read through both backends: unread, drained and then
// CLOSE_WAIT, IPv6, UDP with a datagram waiting, unix pairs with bytes
// waiting at one end, a listener with
// connections waiting to be accepted, and thousands in one process.
TEST_F(BackendsAgree, SocketBySocketOnEveryField) {
  auto unread = start_unread_pair("127.0.0.1", 5, 3000);
  auto drained = start_unread_pair("127.0.0.1", 4, 20000);
  drained.client->signal(SIGUSR1);
  drained.client->expect_line("drained ");
  drained.server->signal(SIGUSR1);
  drained.server->expect_line("closed ");
  auto ipv6 = start_unread_pair("::1", 3, 1500);
  auto mixed = start_workload(
      {"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", "3", "--unix-unread", "5000", "--udp-unread", "700"});
  mixed->expect_line("ready ");
  auto listener = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--no-accept", "--backlog", "16"});
  const std::string port = listener->expect_line("ready ");
  auto waiting = start_workload({"connect", "--to", "127.0.0.1", "--port", port, "--count", "6"});
  waiting->expect_line("ready ");
  auto many = start_unread_pair("127.0.0.1", 3000, 100);

  std::set<uint32_t> pids;
  for (const ChildProcess* p :
       {unread.client.get(), unread.server.get(), drained.client.get(), drained.server.get(), ipv6.client.get(),
        ipv6.server.get(), mixed.get(), listener.get(), waiting.get(), many.client.get(), many.server.get()}) {
    pids.insert(static_cast<uint32_t>(p->pid()));
  }
  NetlinkSockets netlink(HostPaths{});
  using Clock = std::chrono::steady_clock;
  const auto slack = [](Clock::time_point start) {
    return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) +
           20;
  };
  // Loopback delivery and FIN processing settle within moments: the passes
  // agree once they do.
  std::string whole_node, per_process;
  ASSERT_TRUE(eventually([&] {
    const auto start = Clock::now();
    const auto from_bpf = iterator().all();
    const auto from_netlink = netlink.all();
    whole_node = compare_passes(from_bpf, from_netlink, pids, slack(start));
    return whole_node.empty();
  })) << "whole node:"
      << whole_node;
  for (const uint32_t pid : pids) {
    ASSERT_TRUE(eventually([&] {
      const auto start = Clock::now();
      const auto from_bpf = iterator().for_process(static_cast<pid_t>(pid));
      per_process = compare_passes(from_bpf, netlink.for_process(static_cast<pid_t>(pid)), {pid}, slack(start));
      return per_process.empty();
    })) << "PID "
        << pid << ":" << per_process;
  }
  EXPECT_EQ(netlink.gaps().unseen_sockets, 0u) << "every socket of these processes is TCP, UDP or unix";
}

}  // namespace
}  // namespace lw::test
