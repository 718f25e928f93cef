// leakwatch-agent end to end, as an SRE runs it: the real binary with the
// real BPF programs, real workloads on loopback, scraped over HTTP.
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "../unit/fake_files.h"
#include "alert_targets.h"
#include "bpf_test_support.h"
#include "collect/procfs.h"
#include "prometheus_scrape.h"
#include "run_command.h"
#include "running_agent.h"
#include "test_cgroup.h"

namespace lw::test {
namespace {

using namespace std::chrono_literals;

// The agent under test, from this build.
class Agent : public RunningAgent {
 public:
  explicit Agent(std::vector<std::string> args) : RunningAgent(LW_AGENT_PATH, std::move(args)) {}
};

std::string pid_of(const ChildProcess& p) { return std::to_string(p.pid()); }

void expect_within_1_percent(std::optional<double> actual, double expected, const std::string& what) {
  ASSERT_TRUE(actual) << what << ": no such series";
  EXPECT_LE(std::abs(*actual - expected), expected * 0.01) << what << ": " << *actual << " vs " << expected;
}

// Fixture: BPF must load (skip or fail by the usual rule) before the agent runs.
class AgentTest : public BpfTest {};

// The agent through each socket backend. With --backend netlink nothing is
// loaded into the kernel, and there are no close events.
class AgentBackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::bpf) load_or_skip([] { SocketIterator probe; });
  }
  bool bpf() const { return GetParam() == Backend::bpf; }
  std::vector<std::string> with_backend(std::vector<std::string> args) const {
    args.insert(args.end(), {"--backend", bpf() ? "bpf" : "netlink"});
    return args;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, AgentBackendTest, ::testing::Values(Backend::bpf, Backend::netlink),
                         [](const auto& info) { return info.param == Backend::bpf ? "bpf" : "netlink"; });

// Short-lived connections come from close events: BPF's know their owner;
// sock_diag's destroy notifications do not, for sockets no round saw, and in
// the node's own namespace (sockets of every cgroup) nor their cgroup (see
// NetlinkCloses.* for what they are credited to).
TEST_P(AgentBackendTest, IngressCountersAreExactForLongAndShortLivedConnections) {
  TestCgroup cgroup("leakwatch-test-ingress-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  agent.after_rounds(1);

  constexpr int kLong = 10, kShort = 300;
  constexpr double kLongBytes = 200000, kShortBytes = 5000;
  auto long_server = start_workload(
      {"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "200000", "--count", std::to_string(kLong)});
  const std::string long_port = long_server->expect_line("ready ");
  auto short_server =
      start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "5000", "--close-after-send"});
  const std::string short_port = short_server->expect_line("ready ");

  ChildProcess reader(cgroup.wrap({LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--port", long_port, "--count",
                                   std::to_string(kLong), "--read-every", "50", "--max-seconds", "120"}));
  ChildProcess churn(cgroup.wrap({LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", short_port, "--count",
                                  std::to_string(kShort), "--parallel", "4", "--max-seconds", "120"}));
  reader.expect_line("ready ");
  long_server->expect_line("sent ");
  EXPECT_EQ(churn.expect_line("done "), fmt::format("{} {}", kShort, kShort * 5000));

  const double long_total = kLong * kLongBytes, short_total = kShort * kShortBytes;
  Scrape s = agent.after_rounds(2);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    const auto v = s.value("leakwatch_process_tcp_consumed_bytes_total", {{"pid", pid_of(reader)}});
    return v && *v >= long_total;
  })) << "the reader's consumed bytes never reached the bytes sent";
  expect_within_1_percent(s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(reader)}}), long_total,
                          "long-lived received");
  EXPECT_EQ(s.value("leakwatch_ingress_untracked_sockets"), 0) << "the ledger has room for every socket";
  EXPECT_TRUE(s.value("leakwatch_processes_exited_mid_round_total")) << "churn is counted, not lost";
  if (!bpf()) {
    EXPECT_EQ(s.value("leakwatch_backend_info", {{"sockets", "sock_diag"}, {"closes", "sock_diag_destroy"}}), 1);
    EXPECT_GE(s.value("leakwatch_close_events_total").value_or(0), kShort);
    EXPECT_EQ(s.value("leakwatch_cgroup_processes", {{"cgroup", cgroup.path()}}), 2);
    return;
  }
  expect_within_1_percent(s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(churn)}}), short_total,
                          "short-lived received");
  expect_within_1_percent(s.value("leakwatch_process_tcp_consumed_bytes_total", {{"pid", pid_of(churn)}}), short_total,
                          "short-lived consumed");
  expect_within_1_percent(s.value("leakwatch_cgroup_tcp_received_bytes_total", {{"cgroup", cgroup.path()}}),
                          long_total + short_total, "cgroup received");
  EXPECT_EQ(s.value("leakwatch_cgroup_processes", {{"cgroup", cgroup.path()}}), 2);
  EXPECT_GE(s.value("leakwatch_close_events_total").value_or(0), kShort);
  EXPECT_EQ(s.value("leakwatch_events_lost_total", {{"cause", "close_ring_buffer_full"}}), 0);
  EXPECT_TRUE(s.value("leakwatch_events_lost_total", {{"cause", "program_recursion"}}))
      << "the programs' recursion misses are read from the kernel";

  // Counters never go backwards when the sockets close and a process exits;
  // the cgroup is still reported while the reader lives in it.
  churn.signal(SIGTERM);
  churn.wait();
  s = agent.after_rounds(2);
  EXPECT_TRUE(s.find("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(churn)}}).empty())
      << "series of an exited process are removed";
  const auto cgroup_after = s.value("leakwatch_cgroup_tcp_received_bytes_total", {{"cgroup", cgroup.path()}});
  ASSERT_TRUE(cgroup_after);
  EXPECT_GE(*cgroup_after, long_total + short_total);
}

TEST_P(AgentBackendTest, QueuedBytesAndSocketStatesMatchTheWorkload) {
  TestCgroup cgroup("leakwatch-test-queues-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path(), "--top-endpoints", "2"}));
  constexpr int kConns = 12;
  constexpr double kBytes = 50000;
  auto server = start_workload(
      {"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "50000", "--count", std::to_string(kConns)});
  const std::string port = server->expect_line("ready ");
  ChildProcess client(cgroup.wrap({LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--port", port, "--count",
                                   std::to_string(kConns), "--max-seconds", "120"}));
  client.expect_line("ready ");
  server->expect_line("sent ");

  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_socket_unread_bytes", {{"pid", pid_of(client)}}) == kConns * kBytes;
  })) << "unread bytes never matched";
  const std::map<std::string, std::string> me{{"pid", pid_of(client)}};
  EXPECT_GE(
      s.value("leakwatch_process_socket_queue_bytes", {{"pid", pid_of(client)}, {"direction", "receive"}}).value_or(0),
      kConns * kBytes);
  EXPECT_EQ(s.value("leakwatch_process_tcp_sockets", {{"pid", pid_of(client)}, {"state", "ESTABLISHED"}}), kConns);
  EXPECT_EQ(s.value("leakwatch_process_sockets", {{"pid", pid_of(client)}, {"type", "tcp"}}), kConns);
  // Memory per connection, from the same round's footprint and usage.
  const auto footprint = s.value("leakwatch_process_footprint_bytes", me);
  ASSERT_TRUE(footprint);
  EXPECT_DOUBLE_EQ(s.value("leakwatch_process_memory_per_connection_bytes", me).value_or(0), *footprint / kConns);
  const auto usage = s.value("leakwatch_cgroup_memory_usage_bytes", {{"cgroup", cgroup.path()}});
  ASSERT_TRUE(usage);
  EXPECT_DOUBLE_EQ(s.value("leakwatch_cgroup_memory_per_connection_bytes", {{"cgroup", cgroup.path()}}).value_or(0),
                   *usage / kConns);
  EXPECT_EQ(
      s.value("leakwatch_process_endpoint_connections", {{"pid", pid_of(client)}, {"endpoint", "127.0.0.1:" + port}}),
      kConns);
  EXPECT_EQ(s.value("leakwatch_process_tcp_received_bytes_total", me), kConns * kBytes);
  EXPECT_EQ(s.value("leakwatch_process_tcp_consumed_bytes_total", me), 0) << "nothing was read";
  EXPECT_GE(
      s.value("leakwatch_cgroup_socket_queue_bytes", {{"cgroup", cgroup.path()}, {"direction", "receive"}}).value_or(0),
      kConns * kBytes);
  utsname names{};
  ASSERT_EQ(uname(&names), 0);
  EXPECT_EQ(s.value("leakwatch_kernel_info", {{"release", names.release}}), 1);
  EXPECT_EQ(s.value("leakwatch_backend_info",
                    {{"sockets", bpf() ? "bpf_iter_task_file" : "sock_diag"}, {"socket_identity", "inode"}}),
            1);
  // Node-wide: netlink and raw sockets of other processes count there.
  EXPECT_TRUE(s.value("leakwatch_sockets_unseen"));
  for (const char* collector : {"sockets", "close_events", "pods", "processes", "node"}) {
    if (!bpf() && collector == std::string_view("close_events")) continue;
    EXPECT_EQ(s.value("leakwatch_collector_success", {{"collector", collector}}), 1) << collector;
    EXPECT_TRUE(s.value("leakwatch_collector_duration_seconds", {{"collector", collector}})) << collector;
  }

  server->signal(SIGUSR1);
  server->expect_line("closed ");
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_tcp_sockets", {{"pid", pid_of(client)}, {"state", "CLOSE_WAIT"}}) == kConns;
  })) << "CLOSE_WAIT sockets never showed";
}

// One connection with 100,000 bytes unread, dup()ed, then inherited by a
// forked sibling in the same cgroup: the cgroup's receive queue was
// reported 4 times over (456,064 bytes for about 114,000 queued), and the
// socket's bytes were credited to whichever holder came last.
TEST_P(AgentBackendTest, ASharedSocketIsCountedOnceAndCreditedToItsOpener) {
  TestCgroup cgroup("leakwatch-test-shared-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  constexpr double kUnread = 100000;
  ChildProcess opener(
      cgroup.wrap({LW_WORKLOAD_PATH, "sockets", "--shared-tcp", "100000", "--processes", "2", "--max-seconds", "120"}));
  const std::string ready = opener.expect_line("ready ");
  const auto at = ready.find("sibling=");
  ASSERT_NE(at, std::string::npos) << ready;
  const std::string sibling = ready.substr(at + 8);

  Scrape s = agent.after_rounds(1);
  // A round after "ready": both holders, and the data on the socket at each
  // (a round that read the cgroup between the fork and the send saw neither
  // queue; one whose socket pass ran before the fork and its /proc read
  // after saw the sibling without sockets: seen on 6.12 under QEMU).
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_cgroup_processes", {{"cgroup", cgroup.path()}}) == 2 &&
           s.value("leakwatch_process_socket_unread_bytes", {{"pid", pid_of(opener)}}) == kUnread &&
           s.value("leakwatch_process_socket_unread_bytes", {{"pid", sibling}}) == kUnread;
  })) << "both holders and the unread data were never reported";
  const auto receive_queue = [&](const std::string& label, const std::string& value) {
    return s.value(label == "pid" ? "leakwatch_process_socket_queue_bytes" : "leakwatch_cgroup_socket_queue_bytes",
                   {{label, value}, {"direction", "receive"}});
  };
  const auto queued = receive_queue("cgroup", cgroup.path());
  ASSERT_TRUE(queued);
  EXPECT_GE(*queued, kUnread);
  EXPECT_LT(*queued, 2 * kUnread) << "one queue, counted once";
  for (const std::string& pid : {pid_of(opener), sibling}) {
    EXPECT_EQ(receive_queue("pid", pid), *queued) << "PID " << pid << " holds the same one socket";
    EXPECT_EQ(s.value("leakwatch_process_socket_unread_bytes", {{"pid", pid}}), kUnread) << pid;
    EXPECT_EQ(s.value("leakwatch_process_tcp_sockets", {{"pid", pid}, {"state", "ESTABLISHED"}}), 2) << pid;
  }
  EXPECT_EQ(s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(opener)}}), kUnread)
      << "to the process that opened it";
  EXPECT_EQ(s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", sibling}}), 0);
  EXPECT_EQ(s.value("leakwatch_cgroup_tcp_received_bytes_total", {{"cgroup", cgroup.path()}}), kUnread);
}

// UDP drops reached only inspect --json; now a gauge per process and cgroup,
// equal to the kernel's own count.
TEST_P(AgentBackendTest, DatagramsDroppedAtAFullBufferAreExported) {
  TestCgroup cgroup("leakwatch-test-drops-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  ChildProcess holder(cgroup.wrap({LW_WORKLOAD_PATH, "sockets", "--udp-bind", "127.0.0.1", "--max-seconds", "120"}));
  const auto port = static_cast<uint16_t>(std::stoi(holder.expect_line("ready udp=")));
  flood_udp_on_loopback(port);
  const auto dropped = static_cast<double>(kernel_udp_drops(holder.pid(), port));
  ASSERT_GT(dropped, 0);
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_socket_drops", {{"pid", pid_of(holder)}}) == dropped;
  })) << "kernel: "
      << dropped << ", agent: " << s.value("leakwatch_process_socket_drops", {{"pid", pid_of(holder)}}).value_or(-1);
  EXPECT_EQ(s.value("leakwatch_cgroup_socket_drops", {{"cgroup", cgroup.path()}}), dropped);
}

// Bytes left unread on a unix stream showed as the writer's send queue and
// nothing at the reader.
TEST_P(AgentBackendTest, BytesWaitingAtAUnixStreamReaderAreExported) {
  constexpr int kPairs = 2, kUnread = 9000;
  TestCgroup cgroup("leakwatch-test-unix-unread-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  ChildProcess holder(cgroup.wrap({LW_WORKLOAD_PATH, "sockets", "--unix-pairs", std::to_string(kPairs), "--unix-unread",
                                   std::to_string(kUnread), "--max-seconds", "120"}));
  holder.expect_line("ready ");
  // A round that began before the pairs existed exports the process without them.
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_unix_socket_unread_bytes", {{"pid", pid_of(holder)}}) == kPairs * kUnread;
  })) << "agent: "
      << s.value("leakwatch_process_unix_socket_unread_bytes", {{"pid", pid_of(holder)}}).value_or(-1);
  EXPECT_EQ(s.value("leakwatch_process_socket_unread_bytes", {{"pid", pid_of(holder)}}), 0) << "no TCP unread";
  EXPECT_GE(s.value("leakwatch_process_socket_queue_bytes", {{"pid", pid_of(holder)}, {"direction", "send"}}),
            kPairs * kUnread)
      << "the writers hold their memory";
}

// 51 sockets made under `unshare -n` showed as 10 in the node's counts:
// sockstat's "in use" figures are the reader's network namespace only.
TEST_P(AgentBackendTest, NodeTotalsCoverEveryNetworkNamespace) {
  constexpr int kPairs = 25, kSockets = 2 * kPairs + 1;
  TestCgroup cgroup("leakwatch-test-netns-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  Scrape s = agent.after_rounds(1);
  const auto held = [&](const std::string& type) {
    return s.value("leakwatch_node_held_sockets", {{"type", type}}).value_or(0);
  };
  ASSERT_GT(held("all"), 0);
  // By kind: the TCP connections of the scrapes themselves come and go.
  const double unix_before = held("unix-stream"), udp_before = held("udp");
  ChildProcess pod({"unshare", "-n", "sh", "-c",
                    fmt::format("ip link set lo up && exec {} sockets --udp-bind 127.0.0.1 --unix-pairs {} "
                                "--max-seconds 120",
                                LW_WORKLOAD_PATH, kPairs)});
  pod.expect_line("ready ");
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return held("unix-stream") >= unix_before + 2 * kPairs && held("udp") >= udp_before + 1;
  })) << "unix-stream "
      << held("unix-stream") << " (before the pod " << unix_before << "), udp " << held("udp") << " (before "
      << udp_before << ")";
  EXPECT_GE(held("all"), kSockets);
  EXPECT_TRUE(s.value("leakwatch_node_held_socket_queue_bytes", {{"direction", "receive"}}));
  EXPECT_TRUE(s.value("leakwatch_node_sockets", {{"kind", "tcp_alloc"}}));
}

// 50 connections waiting in a listener's accept queue ("too few gunicorn
// workers") showed nowhere before the accept queue was exported.
TEST_P(AgentBackendTest, ConnectionsWaitingToBeAcceptedAreExportedPerListener) {
  TestCgroup cgroup("leakwatch-test-accept-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  constexpr int kWaiting = 50, kBacklog = 128;
  ChildProcess server(cgroup.wrap({LW_WORKLOAD_PATH, "serve", "--bind", "127.0.0.1", "--port", "0", "--no-accept",
                                   "--backlog", std::to_string(kBacklog), "--max-seconds", "120"}));
  const std::string port = server.expect_line("ready ");
  auto client = start_workload({"connect", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(kWaiting)});
  client->expect_line("ready ");

  const std::map<std::string, std::string> listener{{"pid", pid_of(server)}, {"port", port}};
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_accept_queue_connections", listener) == kWaiting;
  })) << "waiting connections: "
      << s.value("leakwatch_process_accept_queue_connections", listener).value_or(-1);
  EXPECT_EQ(s.value("leakwatch_process_accept_queue_limit", listener), kBacklog);
}

// The same behind nginx on a unix socket (gunicorn --bind unix:PATH): the
// listener's series is named by its path.
TEST_P(AgentBackendTest, ConnectionsWaitingOnAUnixListenerAreExportedByItsPath) {
  TestCgroup cgroup("leakwatch-test-unix-accept-" + std::to_string(getpid()));
  Agent agent(with_backend({"--cgroup-prefix", cgroup.path()}));
  constexpr int kBacklog = 20;
  // The workload removes it when it ends, not when it is killed: so does the test.
  struct SocketFile {
    std::string path;
    explicit SocketFile(std::string p) : path(std::move(p)) { std::filesystem::remove(path); }
    ~SocketFile() { std::filesystem::remove(path); }
  } const socket_file(fmt::format("/tmp/leakwatch-test-{}-{}.sock", getpid(), static_cast<int>(GetParam())));
  const std::string& path = socket_file.path;
  ChildProcess server(cgroup.wrap({LW_WORKLOAD_PATH, "unix-backlog", "--path", path, "--backlog",
                                   std::to_string(kBacklog), "--connect", "30", "--max-seconds", "120"}));
  EXPECT_EQ(server.expect_line("ready "), fmt::format("waiting={} refused={}", kBacklog + 1, 30 - (kBacklog + 1)));

  const std::map<std::string, std::string> listener{{"pid", pid_of(server)}, {"path", path}};
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_process_accept_queue_connections", listener) == kBacklog + 1;
  })) << "waiting connections: "
      << s.value("leakwatch_process_accept_queue_connections", listener).value_or(-1);
  EXPECT_EQ(s.value("leakwatch_process_accept_queue_limit", listener), kBacklog);
}

// Where BPF is refused (kernel 5.10), closes come from sock_diag's destroy
// notifications, one listener per network namespace.
uint64_t bytes_of_done(const std::string& done) { return std::stoull(done.substr(done.find(' ') + 1)); }

// Connections opened and closed between two rounds, never seen by one, have
// no inode and no owner; a pod's namespace whose every TCP socket was made in
// one cgroup gives them that cgroup, byte for byte (the peer's FINs left out).
TEST(NetlinkCloses, ConnectionsNoRoundSawAreCreditedToTheCgroupOfTheirPodsNamespace) {
  constexpr int kConnections = 300;
  constexpr double kBytes = 5000;
  TestCgroup cgroup("leakwatch-test-destroy-pod-" + std::to_string(getpid()));
  Agent agent({"--backend", "netlink", "--cgroup-prefix", cgroup.path(), "--interval", "2s"});
  ChildProcess server(cgroup.wrap({"unshare", "-n", "sh", "-c",
                                   fmt::format("ip link set lo up && exec {} serve --bind 127.0.0.1 --port 0 "
                                               "--send-bytes 5000 --close-after-send --max-seconds 120",
                                               LW_WORKLOAD_PATH)}));
  const std::string port = server.expect_line("ready ");
  const auto received = [&](const Scrape& s) {
    return s.value("leakwatch_cgroup_tcp_received_bytes_total", {{"cgroup", cgroup.path()}}).value_or(0);
  };
  Scrape s = agent.after_rounds(2);  // the pod's namespace is listened to
  const double before = received(s);
  ChildProcess churn(cgroup.wrap({"nsenter", "--net=/proc/" + pid_of(server) + "/ns/net", LW_WORKLOAD_PATH, "churn",
                                  "--to", "127.0.0.1", "--port", port, "--count", std::to_string(kConnections),
                                  "--parallel", "4", "--max-seconds", "120"}));
  EXPECT_EQ(churn.expect_line("done "), fmt::format("{} {}", kConnections, kConnections * 5000));
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return received(s) - before >= kConnections * kBytes;
  })) << "received "
      << received(s) - before;
  s = agent.after_rounds(1);
  EXPECT_EQ(received(s) - before, kConnections * kBytes);
  EXPECT_EQ(s.value("leakwatch_backend_info", {{"closes", "sock_diag_destroy"}, {"owners", "sock_diag_cookie"}}), 1);
  EXPECT_GE(s.value("leakwatch_close_events_total").value_or(0), 2 * kConnections);
  EXPECT_EQ(s.value("leakwatch_events_lost_total", {{"cause", "close_socket_buffer_full"}}), 0);
}

// A socket a round saw is known by its cookie: its close carries the inode
// the ledger tracks, and the bytes that arrived after that round are its
// process's, to the byte the reader read.
TEST(NetlinkCloses, ASocketARoundSawIsCreditedWhatArrivedBeforeItClosed) {
  TestCgroup cgroup("leakwatch-test-destroy-seen-" + std::to_string(getpid()));
  Agent agent({"--backend", "netlink", "--cgroup-prefix", cgroup.path(), "--interval", "2s"});
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--stream", "--rate", "400000"});
  const std::string port = server->expect_line("ready ");
  ChildProcess reader(cgroup.wrap(
      {LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", port, "--count", "1", "--max-seconds", "120"}));
  const auto received = [&](const Scrape& s) {
    return s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(reader)}}).value_or(0);
  };
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return received(s) > 0;
  })) << "no round saw the connection";
  // About 200 KB arrive between that round and the close.
  std::this_thread::sleep_for(500ms);
  server->signal(SIGUSR1);  // closes it; the reader reads to the end and closes too
  const uint64_t read = bytes_of_done(reader.expect_line("done "));
  s = agent.after_rounds(2);
  EXPECT_EQ(received(s), read);
  EXPECT_EQ(s.value("leakwatch_process_tcp_consumed_bytes_total", {{"pid", pid_of(reader)}}), read);
}

// The same for `inspect --watch`, through the same sampler: a socket the
// first sample saw, closed between two samples after more data arrived.
TEST(NetlinkCloses, InspectWatchCreditsASocketClosedBetweenSamples) {
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--stream", "--rate", "400000"});
  const std::string port = server->expect_line("ready ");
  ChildProcess reader(
      {LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", port, "--count", "1", "--max-seconds", "120"});
  const TempDir dir;
  const std::string recording = (dir.path() / "watch.jsonl").string();
  // Samples at 0, 3 and 6 s; the close at about 4.5 s.
  std::thread closer([&] {
    std::this_thread::sleep_for(4500ms);
    server->signal(SIGUSR1);
  });
  const auto watch = run_command({LW_CLI_PATH, "inspect", pid_of(reader), "--watch", "8s", "--interval", "3s",
                                  "--backend", "netlink", "--record", recording, "--json"},
                                 Output::capture);
  closer.join();
  const uint64_t read = bytes_of_done(reader.expect_line("done "));
  ASSERT_TRUE(watch.exit_code == 0 || watch.exit_code == 10) << watch.err;
  EXPECT_EQ(watch.err.find("not counted"), std::string::npos) << watch.err;
  std::ifstream in(recording);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  EXPECT_EQ(nlohmann::json::parse(last)["sockets"]["ingress_bytes_total"], static_cast<double>(read));
}

// A listener's buffer holds about 26,000 notifications (16 MiB, forced past
// rmem_max): an agent that stops reading loses the rest, and counts each one
// (the listener's sk_drops), so every notification is taken or counted lost.
// Not in the kernel matrix: 60,000 notifications take minutes under TCG.
TEST(NetlinkCloseLosses, NotificationsDroppedAtAFullBufferAreCounted) {
  constexpr int kConnections = 30000;
  Agent agent({"--backend", "netlink", "--interval", "5s"});
  auto server =
      start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "5000", "--close-after-send"});
  const std::string port = server->expect_line("ready ");
  const auto closes = [](const Scrape& s) {
    return s.value("leakwatch_close_events_total").value_or(0) +
           s.value("leakwatch_events_lost_total", {{"cause", "close_socket_buffer_full"}}).value_or(0);
  };
  Scrape s = agent.after_rounds(1);
  const double before = closes(s);
  agent.process().signal(SIGSTOP);
  ChildProcess churn({LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", port, "--count",
                      std::to_string(kConnections), "--parallel", "4", "--max-seconds", "120"});
  EXPECT_EQ(churn.expect_line("done ", 60s), fmt::format("{} {}", kConnections, kConnections * 5000));
  agent.process().signal(SIGCONT);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return closes(s) - before >= 2 * kConnections;
  })) << "taken or lost: "
      << closes(s) - before;
  EXPECT_GT(s.value("leakwatch_events_lost_total", {{"cause", "close_socket_buffer_full"}}).value_or(0), 0);
}

// 20,000 connections opened and closed in about a second, between two
// rounds 5 s apart, are 40,000 close events (both ends); a 2 MiB ring buffer
// holds about 26,000. Read once a round, as the agent did, most were lost;
// taken every 100 ms between rounds, none are and ingress is exact.
TEST_F(AgentTest, ClosesBetweenRoundsAreTakenBeforeTheRingBufferFills) {
  constexpr int kConnections = 20000;
  constexpr double kBytes = 5000;
  TestCgroup cgroup("leakwatch-test-closes-" + std::to_string(getpid()));
  Agent agent({"--cgroup-prefix", cgroup.path(), "--interval", "5s", "--ring-buffer-bytes", "2097152"});
  auto server =
      start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "5000", "--close-after-send"});
  const std::string port = server->expect_line("ready ");
  Scrape s = agent.after_rounds(1);
  const double closes_before = s.value("leakwatch_close_events_total").value_or(0);
  ChildProcess churn(cgroup.wrap({LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", port, "--count",
                                  std::to_string(kConnections), "--parallel", "4", "--max-seconds", "120"}));
  EXPECT_EQ(churn.expect_line("done "), fmt::format("{} {}", kConnections, kConnections * 5000));
  ASSERT_TRUE(eventually(
      [&] {
        s = agent.scrape();
        return s.value("leakwatch_close_events_total").value_or(0) >= closes_before + 2 * kConnections &&
               s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(churn)}});
      },
      30s))
      << "close events: " << s.value("leakwatch_close_events_total").value_or(0) - closes_before;
  EXPECT_EQ(s.value("leakwatch_events_lost_total", {{"cause", "close_ring_buffer_full"}}), 0);
  EXPECT_EQ(s.value("leakwatch_events_lost_total", {{"cause", "close_backlog_full"}}), 0);
  expect_within_1_percent(s.value("leakwatch_process_tcp_received_bytes_total", {{"pid", pid_of(churn)}}),
                          kConnections * kBytes, "short-lived received");
}

// The same for `inspect --watch` (here rather than with the inspect tests,
// which run in the kernel matrix, where 30,000 connections under emulation
// take minutes): 30,000 connections, 60,000 close events, between two
// samples 40 s apart (the churn takes 2 s here, about 20 s under
// ThreadSanitizer), against a ring buffer of about 52,000. The recording's
// last sample holds the target's ingress: exact, and nothing said lost.
TEST_F(AgentTest, InspectWatchTakesClosesBetweenSamples) {
  constexpr int kConnections = 30000;
  auto server =
      start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "5000", "--close-after-send"});
  const std::string port = server->expect_line("ready ");
  // The churn starts 2 s after its PID exists, so the watch is on it first.
  ChildProcess churn({"/bin/sh", "-c",
                      fmt::format("sleep 2; exec {} churn --to 127.0.0.1 --port {} --count {} --parallel 4 "
                                  "--max-seconds 60",
                                  LW_WORKLOAD_PATH, port, kConnections)});
  const TempDir dir;
  const std::string recording = (dir.path() / "watch.jsonl").string();
  const auto watch = run_command({LW_CLI_PATH, "inspect", std::to_string(churn.pid()), "--watch", "45s", "--interval",
                                  "40s", "--record", recording, "--json"},
                                 Output::capture);
  EXPECT_EQ(churn.expect_line("done "), fmt::format("{} {}", kConnections, kConnections * 5000));
  ASSERT_TRUE(watch.exit_code == 0 || watch.exit_code == 10) << watch.err;
  EXPECT_EQ(watch.err.find("were lost"), std::string::npos) << watch.err;
  std::ifstream in(recording);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  EXPECT_EQ(nlohmann::json::parse(last)["sockets"]["ingress_bytes_total"], kConnections * 5000.0);
}

TEST_F(AgentTest, SeriesStayWithinTheCapAndVanishWithTheirProcesses) {
  TestCgroup cgroup("leakwatch-test-cardinality-" + std::to_string(getpid()));
  constexpr size_t kTopProcesses = 20, kTopEndpoints = 3;
  Agent agent({"--cgroup-prefix", cgroup.path(), "--top-processes", std::to_string(kTopProcesses), "--top-endpoints",
               std::to_string(kTopEndpoints)});
  // Hundreds of processes and a client talking to a thousand remote endpoints.
  ChildProcess processes(
      cgroup.wrap({LW_WORKLOAD_PATH, "sockets", "--unix-pairs", "1", "--processes", "200", "--max-seconds", "120"}));
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--listeners", "1000"});
  std::string ports = server->expect_line("ready ");
  std::replace(ports.begin(), ports.end(), ' ', ',');
  ChildProcess client(cgroup.wrap(
      {LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--ports", ports, "--count", "1", "--max-seconds", "120"}));
  client.expect_line("ready ");
  processes.expect_line("ready ");

  const Scrape s = agent.after_rounds(2);
  std::set<std::string> pids;
  for (const auto& sample : s.samples()) {
    if (const auto it = sample.labels.find("pid"); it != sample.labels.end()) pids.insert(it->second);
  }
  // docs/METRICS.md: a process with a finding is exported past the cap (a
  // slow start, under ThreadSanitizer, can look like growth for a while).
  std::set<std::string> with_finding;
  for (const auto& sample : s.find("leakwatch_leak_suspected")) with_finding.insert(sample.labels.at("pid"));
  EXPECT_GE(pids.size(), kTopProcesses);
  EXPECT_LE(pids.size(), kTopProcesses + with_finding.size());
  EXPECT_EQ(s.value("leakwatch_processes_seen"), 201);
  EXPECT_EQ(s.find("leakwatch_process_endpoint_connections", {{"pid", pid_of(client)}}).size(), kTopEndpoints + 1);
  EXPECT_EQ(s.value("leakwatch_process_endpoint_connections", {{"pid", pid_of(client)}, {"endpoint", "other"}}),
            1000 - kTopEndpoints);
  // docs/METRICS.md: per process 38 + 3(N + 1) + 2N, per cgroup 8, per finding 6, node 12, agent 53.
  EXPECT_LE(s.series(), pids.size() * (38 + 3 * (kTopEndpoints + 1) + 2 * kTopEndpoints) + pids.size() * 8 +
                            with_finding.size() * 6 + 12 + 53);

  processes.signal(SIGTERM);
  processes.wait();
  const Scrape after = agent.after_rounds(2);
  std::set<std::string> left;
  for (const auto& sample : after.samples()) {
    if (const auto it = sample.labels.find("pid"); it != sample.labels.end()) left.insert(it->second);
  }
  EXPECT_EQ(left, std::set<std::string>{pid_of(client)}) << "only the live client keeps per-process series";
}

// Scrapes run on the exposer's threads while the sampler publishes new
// samples: built with -DLEAKWATCH_TSAN=ON, ThreadSanitizer in the agent
// reports any data race in its log, and this test fails on it.
// A round that ends after the next was due starts the next at once; before,
// the wait that followed was negative and the agent stopped sampling for
// good. Stopping the agent for five intervals makes the round late on any
// machine, however fast.
TEST_F(AgentTest, KeepsSamplingWhenARoundRunsLate) {
  Agent agent({"--interval", "100ms"});
  agent.after_rounds(1);
  agent.process().signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  agent.process().signal(SIGCONT);
  agent.after_rounds(5);
}

TEST_F(AgentTest, ConcurrentScrapesDuringSampling) {
  TestCgroup cgroup("leakwatch-test-concurrency-" + std::to_string(getpid()));
  Agent agent({"--interval", "100ms"});
  const uint16_t port = agent.port();
  ChildProcess churn_server(cgroup.wrap({LW_WORKLOAD_PATH, "serve", "--bind", "127.0.0.1", "--port", "0",
                                         "--send-bytes", "1000", "--close-after-send", "--max-seconds", "60"}));
  const std::string port_text = churn_server.expect_line("ready ");
  ChildProcess churn(cgroup.wrap({LW_WORKLOAD_PATH, "churn", "--to", "127.0.0.1", "--port", port_text, "--count",
                                  "2000", "--parallel", "8", "--max-seconds", "60"}));

  std::atomic<int> scrapes{0}, failures{0};
  std::vector<std::thread> scrapers;
  const auto until = std::chrono::steady_clock::now() + 3s;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&] {
      while (std::chrono::steady_clock::now() < until) {
        try {
          if (test::scrape(port).value("leakwatch_build_info")) scrapes++;
        } catch (const std::exception&) {
          failures++;
        }
      }
    });
  }
  for (auto& t : scrapers) t.join();
  churn.expect_line("done ");
  EXPECT_GT(scrapes.load(), 20);
  EXPECT_EQ(failures.load(), 0);
  agent.process().signal(SIGTERM);
  const int status = agent.process().wait();
  const std::string log = agent.log();
  EXPECT_EQ(log.find("ThreadSanitizer"), std::string::npos) << log;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << log;
}

// gunicorn --max-requests, PHP-FPM pm.max_requests: a master and workers
// each replaced after 12 s, each leaking 2 MB/s while it lives. No process
// lives long enough to matter and the container's memory stays bounded;
// the agent names the leak on the cgroup, from the workers' lives, once.
TEST_F(AgentTest, ALeakThatRecyclingWorkersHidesIsNamedOnTheCgroup) {
  TestCgroup cgroup("leakwatch-test-recycled-" + std::to_string(getpid()));
  Agent agent(
      {"--cgroup-prefix", cgroup.path(), "--interval", "1s", "--analysis-window", "20s", "--log-format", "json"});
  ChildProcess master(cgroup.wrap(
      {LW_WORKLOAD_PATH, "heap-grow", "--bytes-per-second", "1000", "--cap", "4096", "--max-seconds", "120"}));
  master.expect_line("ready");
  std::vector<std::unique_ptr<ChildProcess>> workers;
  const auto named = [&]() -> std::optional<nlohmann::json> {
    std::istringstream lines(agent.log());
    for (std::string line; std::getline(lines, line);) {
      if (line.find(R"("msg":"leak finding started")") == std::string::npos) continue;
      auto event = nlohmann::json::parse(line);
      if (event["across_restarts"] == true) return event;
    }
    return std::nullopt;
  };
  // What a worker's anonymous memory really gains a second: 2 MB, or
  // several times that where a sanitizer's shadow memory grows with it.
  const auto anon_of = [](const ChildProcess& p) {
    return parse_status(read_text_file("/proc/" + std::to_string(p.pid()) + "/status").value_or("")).rss_anon;
  };
  std::optional<std::pair<std::chrono::steady_clock::time_point, uint64_t>> first_reading;
  std::optional<double> worker_growth;
  std::optional<nlohmann::json> event;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (!event && std::chrono::steady_clock::now() < deadline) {
    workers.push_back(std::make_unique<ChildProcess>(
        cgroup.wrap({LW_WORKLOAD_PATH, "heap-grow", "--bytes-per-second", "2000000", "--max-seconds", "12"})));
    std::this_thread::sleep_for(3s);
    const auto now = std::chrono::steady_clock::now();
    if (const auto anon = anon_of(*workers.front()); anon && !worker_growth) {
      if (!first_reading) {
        first_reading.emplace(now, *anon);
      } else if (now - first_reading->first >= 5s) {
        worker_growth = static_cast<double>(*anon - first_reading->second) /
                        std::chrono::duration<double>(now - first_reading->first).count();
      }
    }
    event = named();
  }
  ASSERT_TRUE(event) << "the leak was not named on the cgroup; agent log:\n" << agent.log();
  EXPECT_EQ((*event)["kind"], "heap-growth");
  EXPECT_TRUE((*event)["pid"].is_null()) << "about the cgroup, not a worker";
  EXPECT_EQ((*event)["cgroup"], cgroup.path());
  ASSERT_TRUE(worker_growth) << "the first worker's memory was not read twice";
  EXPECT_GE(*worker_growth, 1.5e6);
  EXPECT_NEAR((*event)["growth_per_second"].get<double>(), *worker_growth, 0.25 * *worker_growth) << event->dump(2);
  EXPECT_LT(workers.size(), 20u) << "named within the first few lives";

  // While workers keep coming and going it stays one finding about the
  // cgroup: none started or ended about a worker since.
  const std::string at_naming = agent.log();
  for (int i = 0; i < 4; ++i) {
    workers.push_back(std::make_unique<ChildProcess>(
        cgroup.wrap({LW_WORKLOAD_PATH, "heap-grow", "--bytes-per-second", "2000000", "--max-seconds", "12"})));
    std::this_thread::sleep_for(3s);
  }
  const std::string since = agent.log().substr(at_naming.size());
  EXPECT_EQ(since.find(R"("msg":"leak finding ended")"), std::string::npos) << since;
  EXPECT_EQ(since.find(R"("msg":"leak finding started")"), std::string::npos) << since;
}

TEST_F(AgentTest, LeakFindingIsExportedLoggedAndAlertedThenResolved) {
  Alertmanager alertmanager;
  auto leaking = start_workload({"heap-grow", "--bytes-per-second", "4000000"});
  leaking->expect_line("ready");
  const std::string pid = pid_of(*leaking);
  Agent agent({"--pid", pid, "--interval", "500ms", "--analysis-window", "20s", "--page-after", "3s", "--log-format",
               "json", "--alertmanager-url", alertmanager.url()});

  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually(
      [&] {
        s = agent.scrape();
        return s.value("leakwatch_leak_suspected", {{"pid", pid}, {"kind", "heap-growth"}}) == 1;
      },
      30s))
      << "no heap-growth finding; agent log:\n"
      << agent.log();
  EXPECT_GT(s.value("leakwatch_leak_growth_per_second", {{"pid", pid}, {"kind", "heap-growth"}}).value_or(0), 1e6);
  EXPECT_NE(agent.log().find(R"("msg":"leak finding started")"), std::string::npos) << agent.log();
  EXPECT_NE(agent.log().find(R"("kind":"heap-growth")"), std::string::npos) << agent.log();

  // It pages once held at warning or above for --page-after, and the alert
  // posted is the paging one, severity included.
  std::string paging_severity;
  ASSERT_TRUE(eventually(
      [&] {
        const auto paging = agent.scrape().find("leakwatch_leak_paging", {{"pid", pid}, {"kind", "heap-growth"}});
        if (paging.empty()) return false;
        paging_severity = paging[0].labels.at("severity");
        return true;
      },
      30s))
      << "the finding never paged; agent log:\n"
      << agent.log();
  EXPECT_NE(paging_severity, "info");

  std::optional<nlohmann::json> alert;
  ASSERT_TRUE(eventually(
      [&] {
        alert = leak_alert(alertmanager.active_alerts(), leaking->pid(), "heap-growth");
        return alert.has_value();
      },
      15s))
      << "the alert never reached Alertmanager; agent log:\n"
      << agent.log();
  EXPECT_EQ((*alert)["labels"]["comm"], "lw-workload");
  EXPECT_NE((*alert)["labels"]["severity"], "info");
  EXPECT_FALSE((*alert)["annotations"]["description"].get<std::string>().empty());
  EXPECT_TRUE(eventually([&] {
    return agent.scrape().value("leakwatch_alert_posts_total", {{"result", "ok"}}).value_or(0) >= 1;
  })) << "the alert arrived, so a post succeeded and was counted";

  // The process ends: the finding ends, the alert resolves at once.
  leaking->signal(SIGTERM);
  leaking->wait();
  ASSERT_TRUE(eventually([&] { return !leak_alert(alertmanager.active_alerts(), std::stoi(pid), "heap-growth"); }, 15s))
      << "the alert did not resolve";
  EXPECT_NE(agent.log().find(R"("msg":"leak finding ended")"), std::string::npos) << agent.log();
  s = agent.after_rounds(1);
  EXPECT_TRUE(s.find("leakwatch_leak_suspected", {{"pid", pid}}).empty());
  EXPECT_EQ(s.value("leakwatch_alert_posts_total", {{"result", "failed"}}), 0);
}

// --record-dir: one file per targeted process that `leakwatch analyze`
// replays to the agent's finding, ended with the process's exit; bounded
// by --record-max-bytes, with every line not written counted.
TEST_F(AgentTest, RecordsTargetedProcessesForAnalyzeWithinItsBound) {
  const TempDir dir;
  auto leaking = start_workload({"heap-grow", "--bytes-per-second", "4000000"});
  leaking->expect_line("ready");
  const std::string pid = pid_of(*leaking);
  Agent agent(
      {"--pid", pid, "--interval", "500ms", "--analysis-window", "20s", "--record-dir", (dir.path() / "all").string()});
  ASSERT_TRUE(eventually(
      [&] {
        return agent.scrape().value("leakwatch_leak_suspected", {{"pid", pid}, {"kind", "heap-growth"}}) == 1;
      },
      30s))
      << agent.log();
  leaking->signal(SIGTERM);
  leaking->wait();
  const Scrape s = agent.after_rounds(2);
  EXPECT_GT(s.value("leakwatch_recording_lines_total", {{"result", "written"}}).value_or(0), 6);
  EXPECT_EQ(s.value("leakwatch_recording_lines_total", {{"result", "over_limit"}}), 0);
  EXPECT_EQ(s.value("leakwatch_recording_lines_total", {{"result", "failed"}}), 0);

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "all")) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("lw-workload-" + pid + "-", 0), 0u) << files[0];
  const auto replay = run_command({LW_CLI_PATH, "analyze", files[0].string(), "--json"}, Output::capture);
  EXPECT_EQ(replay.exit_code, 10) << replay.err;
  const auto report = nlohmann::json::parse(replay.out);
  EXPECT_TRUE(report["watch"]["process_exited"].get<bool>());
  ASSERT_FALSE(report["watch"]["findings"].empty()) << replay.out;
  EXPECT_EQ(report["watch"]["findings"][0]["kind"], "heap-growth");

  // 4 KiB for everything: the header and a few samples, then counted.
  auto another = start_workload({"heap-grow", "--bytes-per-second", "1000"});
  another->expect_line("ready");
  Agent bounded({"--pid", pid_of(*another), "--interval", "200ms", "--record-dir", (dir.path() / "small").string(),
                 "--record-max-bytes", "4096"});
  ASSERT_TRUE(eventually([&] {
    return bounded.scrape().value("leakwatch_recording_lines_total", {{"result", "over_limit"}}).value_or(0) >= 3;
  })) << bounded.log();
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "small")) total += entry.file_size();
  EXPECT_GT(total, 0u);
  EXPECT_LE(total, 4096u);
  EXPECT_EQ(bounded.scrape().value("leakwatch_recording_bytes_total"), total);
}

// An agent restarted while its process lives (a DaemonSet rollout, an
// OOM kill) truncated the process's recording: the earlier run's file is now
// kept, the new run writes the next name, and the bound counts both.
TEST_F(AgentTest, AnAgentRestartedWhileItsProcessLivesKeepsTheEarlierRecording) {
  const TempDir dir;
  auto process = start_workload({"heap-grow", "--bytes-per-second", "1000"});
  process->expect_line("ready");
  const std::vector<std::string> args{"--pid", pid_of(*process), "--interval",
                                      "200ms", "--record-dir",   dir.path().string()};
  const auto written = [](Agent& agent) {
    return agent.scrape().value("leakwatch_recording_lines_total", {{"result", "written"}}).value_or(0);
  };
  const auto files = [&] {
    std::map<std::string, uintmax_t> sizes;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      sizes[entry.path().filename().string()] = entry.file_size();
    }
    return sizes;
  };
  {
    Agent first(args);
    ASSERT_TRUE(eventually([&] { return written(first) >= 4; })) << first.log();
  }
  const auto before = files();
  ASSERT_EQ(before.size(), 1u);
  const std::string stem = before.begin()->first.substr(0, before.begin()->first.size() - 6);
  {
    Agent second(args);
    ASSERT_TRUE(eventually([&] { return written(second) >= 4; })) << second.log();
  }
  const auto after = files();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after.at(stem + ".jsonl"), before.begin()->second) << "the first run's recording is untouched";
  ASSERT_TRUE(after.contains(stem + ".2.jsonl"));
  for (const auto& [name, size] : after) {
    const auto replay = run_command({LW_CLI_PATH, "analyze", (dir.path() / name).string()}, Output::capture);
    EXPECT_EQ(replay.exit_code, 0) << name << ": " << replay.err;
  }

  // Everything in the directory counts toward --record-max-bytes: with
  // 4 KiB there already, a bound of 4 KiB writes nothing more.
  std::ofstream(dir.path() / "earlier.jsonl") << std::string(4096, '\n');
  auto bounded_args = args;
  bounded_args.insert(bounded_args.end(), {"--record-max-bytes", "4096"});
  Agent bounded(bounded_args);
  ASSERT_TRUE(eventually([&] {
    return bounded.scrape().value("leakwatch_recording_lines_total", {{"result", "over_limit"}}).value_or(0) >= 3;
  })) << bounded.log();
  EXPECT_EQ(written(bounded), 0);
}

// A recorded process that stops being a target without exiting (an exec()
// that changes the name --comm matched) was said to have exited.
TEST_F(AgentTest, ARecordedProcessThatExecsIntoAnotherNameIsNotSaidToHaveExited) {
  const TempDir dir;
  const auto shell = dir.path() / "lwexecprobe";
  std::filesystem::create_symlink("/bin/sh", shell);
  Agent agent({"--comm", "^lwexecprobe$", "--interval", "200ms", "--record-dir", (dir.path() / "rec").string()});
  ChildProcess probe({shell.string(), "-c", "sleep 2; exec sleep 60"});
  const auto comm = [&] { return read_text_file(fmt::format("/proc/{}/comm", probe.pid())).value_or(""); };
  ASSERT_TRUE(eventually([&] {
    return agent.scrape().value("leakwatch_recording_lines_total", {{"result", "written"}}).value_or(0) >= 3;
  })) << agent.log();
  ASSERT_TRUE(eventually([&] { return comm() == "sleep\n"; })) << comm();
  agent.after_rounds(2);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "rec")) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);
  const auto replay = run_command({LW_CLI_PATH, "analyze", files[0].string(), "--json"}, Output::capture);
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_FALSE(nlohmann::json::parse(replay.out)["watch"]["process_exited"].get<bool>()) << "it lives on, as sleep";
}

// A tmpfs of a given size (or read-only) for the length of a test: a disk
// that fills, without filling the machine's.
class SmallTmpfs {
 public:
  SmallTmpfs(const std::filesystem::path& at, const std::string& options) : at_(at) {
    std::filesystem::create_directories(at_);
    if (::mount("tmpfs", at_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      throw std::runtime_error("cannot mount a tmpfs at " + at_.string() + ": " + std::strerror(errno));
    }
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  ~SmallTmpfs() { ::umount2(at_.c_str(), MNT_DETACH); }

 private:
  std::filesystem::path at_;
};

// A full disk stops the recording and is counted; sampling goes on. A
// read-only one is refused at start.
TEST_F(AgentTest, AFullOrReadOnlyDiskForRecordingsIsCountedOrRefused) {
  const TempDir dir;
  const SmallTmpfs full(dir.path() / "full", "size=8k");
  auto process = start_workload({"heap-grow", "--bytes-per-second", "1000"});
  process->expect_line("ready");
  Agent agent({"--pid", pid_of(*process), "--interval", "200ms", "--record-dir", (dir.path() / "full").string()});
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually([&] {
    s = agent.scrape();
    return s.value("leakwatch_recording_lines_total", {{"result", "failed"}}).value_or(0) >= 3;
  })) << agent.log();
  EXPECT_GT(s.value("leakwatch_recording_lines_total", {{"result", "written"}}).value_or(0), 0);
  EXPECT_EQ(s.value("leakwatch_recording_lines_total", {{"result", "over_limit"}}), 0);
  const double rounds = s.value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0);
  EXPECT_GT(agent.after_rounds(3).value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0), rounds)
      << "sampling goes on";
  EXPECT_NE(agent.log().find("No space left on device"), std::string::npos) << agent.log();

  const SmallTmpfs read_only(dir.path() / "ro", "size=64k,mode=0755");
  ASSERT_EQ(::mount(nullptr, (dir.path() / "ro").c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  ChildProcess refused({LW_AGENT_PATH, "--pid", pid_of(*process), "--record-dir", (dir.path() / "ro" / "r").string()},
                       /*merge_stderr=*/true);
  const auto line = refused.read_line(20s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("cannot write recordings in"), std::string::npos) << *line;
  EXPECT_NE(line->find("Read-only file system"), std::string::npos) << *line;
  const int status = refused.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9) << status;
}

// A leaking process named with bytes that are not UTF-8: its alert and its
// recording are written with U+FFFD for them, and the agent goes on.
TEST_F(AgentTest, AProcessNamedWithBytesThatAreNotUtf8IsAlertedAndRecorded) {
  Alertmanager alertmanager;
  const BadlyNamedChild leaking(4000000);
  const std::string pid = std::to_string(leaking.pid());
  const TempDir dir;
  Agent agent({"--pid", pid, "--interval", "500ms", "--analysis-window", "20s", "--page-after", "0s",
               "--alertmanager-url", alertmanager.url(), "--record-dir", dir.path().string()});
  std::optional<nlohmann::json> alert;
  ASSERT_TRUE(eventually(
      [&] {
        alert = leak_alert(alertmanager.active_alerts(), leaking.pid(), "heap-growth");
        return alert.has_value();
      },
      30s))
      << agent.log();
  EXPECT_EQ((*alert)["labels"]["comm"], BadlyNamedChild::kNameAsUtf8);
  const Scrape s = agent.after_rounds(1);
  const auto footprint = s.find("leakwatch_process_footprint_bytes", {{"pid", pid}});
  ASSERT_EQ(footprint.size(), 1u);
  EXPECT_EQ(footprint[0].labels.at("comm"), BadlyNamedChild::kNameAsUtf8) << "Prometheus refuses a scrape otherwise";
  EXPECT_GT(s.value("leakwatch_recording_lines_total", {{"result", "written"}}).value_or(0), 6);
  EXPECT_EQ(s.value("leakwatch_recording_lines_total", {{"result", "failed"}}), 0);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const auto replay = run_command({LW_CLI_PATH, "analyze", entry.path().string(), "--json"}, Output::capture);
    EXPECT_EQ(replay.exit_code, 10) << replay.err;
    EXPECT_EQ(nlohmann::json::parse(replay.out)["recording"]["command"], BadlyNamedChild::kNameAsUtf8);
  }
}

TEST_F(AgentTest, UnreachableAlertmanagerIsCountedNotFatal) {
  auto leaking = start_workload({"heap-grow", "--bytes-per-second", "4000000"});
  leaking->expect_line("ready");
  Agent agent({"--pid", pid_of(*leaking), "--interval", "500ms", "--analysis-window", "20s", "--page-after", "0s",
               "--alertmanager-url", "http://127.0.0.1:" + std::to_string(free_loopback_port())});
  Scrape s = agent.after_rounds(1);
  ASSERT_TRUE(eventually(
      [&] {
        s = agent.scrape();
        return s.value("leakwatch_alert_posts_total", {{"result", "failed"}}).value_or(0) >= 2;
      },
      30s))
      << agent.log();
  EXPECT_EQ(s.value("leakwatch_alert_posts_total", {{"result", "ok"}}), 0);
  EXPECT_GE(s.value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0), 2) << "sampling goes on";
}

TEST_F(AgentTest, StopsCleanlyOnSigterm) {
  Agent agent({});
  agent.after_rounds(1);
  agent.process().signal(SIGTERM);
  const int status = agent.process().wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// SIGHUP's default action ends a process; a terminal closing or a reload
// request must not end the agent.
TEST_F(AgentTest, SighupIsLoggedAndSamplingGoesOn) {
  Agent agent({});
  agent.after_rounds(1);
  agent.process().signal(SIGHUP);
  agent.after_rounds(2);
  EXPECT_NE(agent.log().find("SIGHUP ignored"), std::string::npos) << agent.log();
  agent.process().signal(SIGTERM);
  const int status = agent.process().wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

struct BadConfig {
  std::vector<std::string> args;
  std::string message;
  int exit_code = 2;  // bad configuration; 9: a host path that cannot be read
  // Written to a file first; an argument "{file}" is its path.
  std::optional<std::string> file = std::nullopt;
};

// Its arguments, in a failure's message (not the file: it may be 1 MiB).
void PrintTo(const BadConfig& bad, std::ostream* out) {
  for (const auto& arg : bad.args) *out << (&arg == &bad.args.front() ? "" : " ") << arg;
}

// Every byte value, as a corrupted or binary file holds them.
std::string every_byte() {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  return bytes;
}

class AgentBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(AgentBadConfigTest, OneLineAndItsExitCode) {
  const TempDir dir;
  const auto file = (dir.path() / "file").string();
  if (GetParam().file) write_file(file, *GetParam().file);
  std::vector<std::string> argv{LW_AGENT_PATH};
  for (const auto& arg : GetParam().args) argv.push_back(arg == "{file}" ? file : arg);
  ChildProcess agent(argv, /*merge_stderr=*/true);
  const auto line = agent.read_line(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->rfind("leakwatch-agent: error: ", 0), 0u) << *line;
  EXPECT_NE(line->find(GetParam().message), std::string::npos) << *line;
  EXPECT_FALSE(agent.read_line(2s)) << "exactly one line";
  const int status = agent.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == GetParam().exit_code) << status;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AgentBadConfigTest,
    ::testing::Values(
        BadConfig{{"--interval", "5x"}, "5x"}, BadConfig{{"--no-such-flag"}, "--no-such-flag"},
        BadConfig{{"--listen-address", "nonsense"}, "nonsense"},
        BadConfig{{"--listen-address", "999.1.1.1:80"}, "999.1.1.1:80"},
        BadConfig{{"--config", "/nonexistent/leakwatch.toml"}, "/nonexistent/leakwatch.toml"},
        BadConfig{{"--top-processes", "0"}, "--top-processes"},
        BadConfig{{"--host-root", "/nonexistent/host"}, "bad --host-root '/nonexistent/host'"},
        BadConfig{{"--alertmanager-url", "https://127.0.0.1:9093", "--alertmanager-username", "lw",
                   "--alertmanager-password-file", "/nonexistent/password"},
                  "bad --alertmanager-password-file '/nonexistent/password': cannot read it"},
        BadConfig{{"--host-proc", "/nonexistent/proc"}, "cannot read /nonexistent/proc/1/stat", 9},
        BadConfig{{"--host-cgroup", "/nonexistent/cgroup"}, "/nonexistent/cgroup is not a directory", 9},
        BadConfig{{"--record-dir", "/tmp/leakwatch-recordings"}, "--pid, --comm or --cgroup-prefix"},
        BadConfig{{"--pid", "1", "--record-dir", "/proc/leakwatch-recordings"},
                  "cannot write recordings in '/proc/leakwatch-recordings'",
                  9},
        // What a new user may point --config (or a secret) at by mistake.
        BadConfig{{"--config", "/tmp"}, "--config file '/tmp' is a directory"},
        BadConfig{{"--config", "/dev/zero"}, "--config file '/dev/zero' is not a text file (byte 0x00 at offset 0)"},
        BadConfig{{"--config", "{file}"}, "is larger than 1 MiB", 2, std::string((1 << 20) + 1, '#')},
        BadConfig{{"--config", LW_AGENT_PATH}, "is not a text file (byte 0x7f at offset 0)"},
        BadConfig{{"--config", "{file}"}, "is not a text file (byte 0x00 at offset 0)", 2, every_byte()},
        BadConfig{
            {"--config", "{file}"}, "is not a text file (byte 0x1b at offset 12)", 2, "interval = \"\x1b[31m5s\"\n"},
        BadConfig{{"--alertmanager-url", "http://127.0.0.1:9093", "--alertmanager-bearer-token-file", "{file}"},
                  "the file is empty",
                  2,
                  " \n\t\r\n"},
        BadConfig{{"--alertmanager-url", "http://127.0.0.1:9093", "--alertmanager-bearer-token-file", "/dev/null"},
                  "bad --alertmanager-bearer-token-file '/dev/null': the file is empty"}));

TEST(AgentListenAddress, PortInUseIsAClearError) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ChildProcess agent({LW_AGENT_PATH, "--listen-address", taken}, /*merge_stderr=*/true);
  const auto line = agent.read_line(20s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("cannot listen on " + taken), std::string::npos) << *line;
  const int status = agent.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  close(fd);
}

}  // namespace
}  // namespace lw::test
