// The accounting of one sampling round, on synthetic inputs: no kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "collect/node_sampler.h"
#include "metrics_exporter.h"
#include "model/node_round.h"
#include "model/observation.h"
#include "record_builder.h"

namespace lw::test {
namespace {

TargetProcess process(pid_t pid, const std::string& comm, const std::string& cgroup, uint64_t anon) {
  TargetProcess p;
  p.info.pid = pid;
  p.info.stat.start_time = 1000 + pid;
  p.info.status.name = comm;
  p.info.status.rss_anon = anon;
  p.info.status.rss_file = 0;
  p.info.status.rss_shmem = 0;
  p.cgroup = cgroup;
  return p;
}

SocketRecord received(uint32_t tgid, uint64_t inode, uint64_t bytes, uint32_t unread) {
  SocketRecord r = RecordBuilder::tcp4("127.0.0.1", 40000, "127.0.0.1", 8000).unread(unread);
  r.tgid = tgid;
  r.inode = inode;
  r.bytes_received = bytes;
  return r;
}

// The state NodeSampler keeps across rounds, accounted the way it does.
struct Rounds {
  RoundState state;
  size_t top_endpoints = 5;

  NodeSample run(RoundInputs in, double now = 0) {
    sort_by_owner(in.records);
    return account_round(state, in, now, 60, top_endpoints);
  }
  // A round that saw PID 10, "api" in /pod/a, holding socket 1 with 4000
  // bytes received.
  void see_api_with_one_socket() {
    RoundInputs first;
    first.processes = {process(10, "api", "/pod/a", 1)};
    first.records = {received(10, 1, 4000, 0)};
    run(std::move(first));
  }
};

CloseEvent close_event(uint64_t inode, uint32_t tgid, uint64_t cgroup_id, uint64_t bytes) {
  CloseEvent e{};
  e.inode = inode;
  e.tgid = tgid;
  e.cgroup_id = cgroup_id;
  e.bytes_received = bytes;
  e.bytes_consumed = bytes;
  return e;
}

TEST(AssembleNodeSample, CreditsLiveAndClosedSocketsToProcessesAndCgroups) {
  Rounds rounds;
  RoundInputs in;
  in.processes = {process(10, "api", "/pod/a", 1000), process(20, "worker", "/pod/b", 5000)};
  in.records = {received(10, 1, 4000, 1000), received(20, 2, 100, 0), received(99, 3, 7777, 0)};
  in.cgroup_by_v2_id = {{555, "/pod/b"}};
  in.close_events = {close_event(1, 0, 0, 6000),    // seen live: credits the 2000 since
                     close_event(50, 10, 0, 300),   // short-lived, owner recorded in the kernel
                     close_event(51, 0, 555, 200),  // owner unknown, cgroup known
                     close_event(52, 0, 777, 9)};   // neither known
  const NodeSample s = rounds.run(std::move(in));

  ASSERT_EQ(s.processes.size(), 2u);
  EXPECT_EQ(s.processes[0].comm, "worker") << "largest footprint first";
  const ProcessSample& api = s.processes[1];
  EXPECT_EQ(api.ingress.received, 6000u + 300u);
  EXPECT_EQ(api.sockets.unread_bytes, 1000u);
  EXPECT_EQ(s.cgroups.at("/pod/a").ingress.received, 6300u);
  EXPECT_EQ(s.cgroups.at("/pod/b").ingress.received, 100u + 200u);
  EXPECT_EQ(s.cgroups.at("/pod/b").processes, 1u);
  EXPECT_EQ(rounds.state.health.unattributed_received_bytes, 9u);
  EXPECT_EQ(rounds.state.health.sockets_seen, 3u);
  EXPECT_EQ(rounds.state.health.close_events, 4u);
  EXPECT_FALSE(s.cgroups.contains("")) << "the untargeted PID 99 adds no cgroup";
}

// A pre-fork master (PID 10) and its worker (PID 11) in one pod: the
// listener's connection they both hold (the kernel counts 2 references to
// its file) is the master's, which started first, and one socket of the
// pod; the worker's own connection (1 reference) is the worker's alone.
TEST(AssembleNodeSample, ASharedConnectionIsCreditedOnceAndASoleOneToItsHolder) {
  Rounds rounds;
  RoundInputs in;
  in.processes = {process(10, "master", "/pod/a", 1000), process(11, "worker", "/pod/a", 1000)};
  SocketRecord shared = received(10, 5, 1000, 300);
  shared.file_refs = 2;
  SocketRecord inherited = shared;
  inherited.tgid = 11;
  SocketRecord own = received(11, 6, 2000, 0);
  own.file_refs = 1;
  in.records = {shared, inherited, own};
  const NodeSample s = rounds.run(std::move(in));

  const auto pid_is = [&](pid_t pid) {
    return *std::find_if(s.processes.begin(), s.processes.end(),
                         [&](const ProcessSample& p) { return p.key.pid == pid; });
  };
  EXPECT_EQ(pid_is(10).ingress.received, 1000u);
  EXPECT_EQ(pid_is(11).ingress.received, 2000u);
  const CgroupSample& pod = s.cgroups.at("/pod/a");
  EXPECT_EQ(pod.ingress.received, 3000u);
  EXPECT_EQ(pod.sockets.sockets, 2u);
  EXPECT_EQ(pod.sockets.descriptors, 3u);
  EXPECT_EQ(pod.sockets.unread_bytes, 300u) << "the shared socket's unread bytes once";
}

TEST(AssembleNodeSample, ExitedProcessDisappearsButItsCgroupKeepsCounting) {
  Rounds rounds;
  rounds.see_api_with_one_socket();

  RoundInputs second;
  second.processes = {process(11, "api", "/pod/a", 1)};  // restarted
  second.close_events = {close_event(1, 10, 0, 4500)};
  second.cgroup_by_v2_id = {{1, "/pod/a"}};
  const NodeSample s = rounds.run(std::move(second));
  ASSERT_EQ(s.processes.size(), 1u);
  EXPECT_EQ(s.processes[0].key.pid, 11);
  EXPECT_EQ(s.processes[0].ingress.received, 0u);
  EXPECT_EQ(s.cgroups.at("/pod/a").ingress.received, 4500u) << "counters never go backwards";
}

// Closes taken between rounds: those of a tracked socket or of a process
// the last round targeted are credited at once; one of a process born since
// waits, and the next round credits it to that process.
TEST(CloseBacklog, ClosesBetweenRoundsAreCreditedAtOnceOrWaitForTheirOwner) {
  Rounds rounds;
  rounds.see_api_with_one_socket();

  // PID 12 was born since and is a target, PID 13 is not one, PID 14 is gone.
  std::vector<pid_t> looked_up;
  const auto look_up = [&](pid_t pid) {
    looked_up.push_back(pid);
    if (pid == 12) return ProcessLookup{ProcessLookup::target, SocketOwner{ProcessKey{12, 1012}, "/pod/a"}};
    return ProcessLookup{pid == 13 ? ProcessLookup::not_target : ProcessLookup::gone, {}};
  };
  const std::vector<CloseEvent> between = {close_event(1, 10, 0, 4500),  // tracked: 500 more
                                           close_event(60, 10, 0, 300),  // opened and closed by PID 10
                                           close_event(61, 12, 0, 200),  close_event(62, 12, 0, 50),
                                           close_event(63, 13, 0, 7000), close_event(64, 14, 777, 80)};
  take_closes_between_rounds(rounds.state, between, look_up);
  EXPECT_EQ(looked_up, (std::vector<pid_t>{12, 13, 14})) << "once each, and never a target of the last round";
  EXPECT_EQ(rounds.state.ledger.process_totals(ProcessKey{10, 1010}).received, 4800u) << "credited before the round";
  EXPECT_EQ(rounds.state.ledger.process_totals(ProcessKey{12, 1012}).received, 250u);
  EXPECT_EQ(rounds.state.closes.waiting.size(), 1u);
  EXPECT_EQ(rounds.state.health.close_events, 5u) << "the waiting one is counted by the round that takes it";

  RoundInputs second;
  second.processes = {process(10, "api", "/pod/a", 1), process(12, "new", "/pod/a", 1)};
  second.cgroup_by_v2_id = {{777, "/pod/a"}};  // PID 14's close is the cgroup's, as a round would credit it
  second.close_events = std::exchange(rounds.state.closes.waiting, {});  // as NodeSampler::read_round does
  const NodeSample s = rounds.run(std::move(second));
  EXPECT_EQ(s.cgroups.at("/pod/a").ingress.received, 4500u + 300 + 250 + 80) << "not PID 13's 7000";
  const auto born = std::find_if(s.processes.begin(), s.processes.end(), [](auto& p) { return p.key.pid == 12; });
  ASSERT_NE(born, s.processes.end());
  EXPECT_EQ(born->ingress.received, 250u) << "the same process the round finds";
  EXPECT_EQ(rounds.state.health.close_events, 6u);
}

TEST(CloseBacklog, ClosesThatCannotWaitAreCountedAsLost) {
  Rounds rounds;
  std::vector<CloseEvent> unknown(CloseBacklog::kMaxWaiting + 3, close_event(0, 99, 0, 1));
  take_closes_between_rounds(rounds.state, unknown, [](pid_t) { return ProcessLookup{}; });
  EXPECT_EQ(rounds.state.closes.waiting.size(), CloseBacklog::kMaxWaiting);
  EXPECT_EQ(rounds.state.health.close_backlog_full, 3u);
}

// A pre-fork server: the parent connected, then forked; both hold the
// socket, in one cgroup. PIDs wrap, so the parent's may be the higher one.
class SharedSocketTest : public ::testing::TestWithParam<std::pair<pid_t, pid_t>> {};

INSTANTIATE_TEST_SUITE_P(ParentAndChildPids, SharedSocketTest,
                         ::testing::Values(std::pair<pid_t, pid_t>{30, 20}, std::pair<pid_t, pid_t>{20, 30}));

TEST_P(SharedSocketTest, IsOneSocketCreditedToItsOpener) {
  const auto [parent_pid, child_pid] = GetParam();
  Rounds rounds;
  RoundInputs first;
  TargetProcess parent = process(parent_pid, "master", "/pod/a", 1);
  TargetProcess child = process(child_pid, "worker", "/pod/a", 1);
  parent.info.stat.start_time = 100;
  child.info.stat.start_time = 200;
  first.processes = {child, parent};
  SocketRecord shared = received(static_cast<uint32_t>(parent_pid), 7, 5000, 5000);
  shared.rmem_alloc = 8192;
  SocketRecord in_child = shared;
  in_child.tgid = static_cast<uint32_t>(child_pid);
  first.records = {in_child, shared, shared};  // the parent holds it twice (dup)
  const NodeSample s = rounds.run(first);

  ASSERT_EQ(s.processes.size(), 2u);
  for (const auto& p : s.processes) {
    EXPECT_EQ(p.sockets.sockets, 1u) << p.comm;
    EXPECT_EQ(p.sockets.unread_bytes, 5000u) << p.comm;
    EXPECT_EQ(p.ingress.received, p.key.pid == parent_pid ? 5000u : 0u) << p.comm << ": to the one started first";
  }
  const CgroupSample& pod = s.cgroups.at("/pod/a");
  EXPECT_EQ(pod.sockets.sockets, 1u);
  EXPECT_EQ(pod.sockets.descriptors, 3u);
  EXPECT_EQ(pod.sockets.receive_queue_bytes, 8192u) << "one queue, counted once";
  EXPECT_EQ(pod.sockets.unread_bytes, 5000u);
  EXPECT_EQ(pod.ingress.received, 5000u) << "credited once";
  ASSERT_TRUE(s.held_sockets);
  EXPECT_EQ(s.held_sockets->sockets, 1u) << "and once on the node";
  EXPECT_EQ(s.held_sockets->receive_queue_bytes, 8192u);
  const Observation o = observe_cgroup(pod, {&s.processes[0], &s.processes[1]}, 0, 5);
  EXPECT_EQ(o.receive_queue_bytes, 8192);
  EXPECT_EQ(o.unread_bytes, 5000);
  EXPECT_EQ(o.tcp_connections, 1);
  EXPECT_EQ(o.socket_fds, 3) << "descriptors, as open fds are counted";

  // The parent closed its copies; what arrives next is the child's.
  RoundInputs second;
  second.processes = {child, parent};
  in_child.bytes_received = 7000;
  second.records = {in_child};
  second.every_socket = false;  // a --pid pass: the node's sockets are unknown
  const NodeSample later = rounds.run(std::move(second));
  EXPECT_FALSE(later.held_sockets);
  for (const auto& p : later.processes)
    EXPECT_EQ(p.ingress.received, p.key.pid == parent_pid ? 5000u : 2000u) << p.comm;
  EXPECT_EQ(later.cgroups.at("/pod/a").ingress.received, 7000u);
}

TEST(TargetFilter, PidCommAndCgroupPrefix) {
  TargetFilter f;
  EXPECT_TRUE(f.matches(1, "anything", "/x"));
  f.pids = {5};
  EXPECT_FALSE(f.matches(1, "a", "/x"));
  EXPECT_TRUE(f.matches(5, "a", "/x"));
  f.pids.clear();
  f.comm = std::regex("^gunicorn");
  EXPECT_TRUE(f.matches(1, "gunicorn: worker", "/x"));
  EXPECT_FALSE(f.matches(1, "python", "/x"));
  f.comm.reset();
  f.cgroup_prefix = "/kubepods";
  EXPECT_TRUE(f.matches(1, "a", "/kubepods/pod1"));
  EXPECT_FALSE(f.matches(1, "a", "/system.slice"));
}

size_t series_count(const std::vector<prometheus::MetricFamily>& families) {
  size_t n = 0;
  for (const auto& f : families) n += f.metric.size();
  return n;
}

// Many processes, each with many remote endpoints: the series count is
// bounded by the limits, not by what the node holds.
TEST(MetricsExporter, SeriesAreBoundedByTheLimits) {
  Rounds rounds;
  rounds.top_endpoints = 3;
  RoundInputs in;
  for (pid_t pid = 1; pid <= 300; ++pid) {
    in.processes.push_back(process(pid, "p" + std::to_string(pid), "/c" + std::to_string(pid), 1000 * pid));
    for (uint16_t port = 1; port <= 40; ++port) {
      SocketRecord r = received(static_cast<uint32_t>(pid), pid * 1000u + port, 10, 0);
      r.remote_port = port;
      in.records.push_back(r);
    }
  }
  const auto sample = std::make_shared<NodeSample>(rounds.run(std::move(in)));
  MetricsExporter exporter(ExportLimits{.top_processes = 10, .top_cgroups = 4});
  exporter.publish(sample);
  const auto families = exporter.Collect();
  size_t endpoint_series = 0;
  std::set<std::string> pids;
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        if (l.name == "pid") pids.insert(l.value);
      }
    }
    if (f.name == "leakwatch_process_endpoint_connections") endpoint_series = f.metric.size();
  }
  EXPECT_EQ(pids.size(), 10u);
  EXPECT_TRUE(pids.contains("300")) << "the largest footprint is exported";
  EXPECT_EQ(endpoint_series, 10u * (3 + 1)) << "top 3 endpoints + other, per exported process";
  EXPECT_LT(series_count(families), 10u * 40 + 4u * 10 + 60);
}

// Pod identity rides on every per-process, per-cgroup and finding series
// and on the alert; a process outside any pod gets no pod label at all.
TEST(MetricsExporter, PodIdentityLabelsEverySeriesOfThePodAndNothingElse) {
  Rounds rounds;
  const std::string cgroup = "/kubepods/burstable/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10/" + std::string(64, 'a');
  const PodIdentity web{"shop", "web-0", "6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10", "app", std::string(64, 'a')};
  RoundInputs in;
  in.processes = {process(10, "web", cgroup, 5000), process(20, "sshd", "/system.slice/ssh", 1000)};
  in.processes[0].pod = web;
  in.cgroup_pods = {{cgroup, web}, {"/system.slice/ssh", PodIdentity{}}};
  in.records = {received(10, 1, 4000, 1000), received(20, 2, 100, 0)};
  const auto sample = std::make_shared<NodeSample>(rounds.run(std::move(in)));
  ASSERT_EQ(sample->cgroups.at(cgroup).pod, web);

  Finding leak;
  leak.kind = FindingKind::socket_receive_backlog;
  const ActiveFinding finding{sample->processes[0].key, "web", cgroup, web, leak, 0};
  MetricsExporter exporter(ExportLimits{});
  exporter.publish(sample, {finding});
  const std::map<std::string, std::string> expected{
      {"namespace", "shop"}, {"pod", "web-0"}, {"pod_uid", web.pod_uid}, {"container", "app"}};
  size_t pod_series = 0, host_series = 0;
  for (const auto& family : exporter.Collect()) {
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      if (!labels.contains("cgroup")) continue;  // the agent's own series
      const bool of_pod = labels.at("cgroup") == cgroup;
      (of_pod ? pod_series : host_series)++;
      for (const auto& [name, value] : expected) {
        if (of_pod) {
          EXPECT_EQ(labels[name], value) << family.name << " " << name;
        } else {
          EXPECT_FALSE(labels.contains(name)) << family.name << " " << name;
        }
      }
      EXPECT_FALSE(labels.contains("container_id")) << family.name;
    }
  }
  EXPECT_GT(pod_series, 20u) << "process, cgroup and finding series";
  EXPECT_GT(host_series, 10u);

  const auto body = alerts_body(AlertBatch{.resolved = {}, .active = std::vector<ActiveFinding>{finding}}, "node1",
                                std::chrono::system_clock::now(), std::chrono::seconds(60));
  ASSERT_EQ(body.size(), 1u);
  for (const auto& [name, value] : expected) EXPECT_EQ(body[0]["labels"][name], value) << name;
  EXPECT_NE(body[0]["annotations"]["summary"].get<std::string>().find("pod shop/web-0"), std::string::npos);
}

// The numbers behind a finding's explanation are series of their own.
TEST(MetricsExporter, FindingsExportShareOfGrowthAndIngressCorrelation) {
  Finding backlog;
  backlog.kind = FindingKind::socket_receive_backlog;
  backlog.share_of_growth = 0.8;
  backlog.ingress_correlation = 0.95;
  Finding heap;
  heap.kind = FindingKind::heap_growth;
  heap.share_of_growth = 0.6;  // no ingress: no correlation
  MetricsExporter exporter(ExportLimits{});
  exporter.publish(std::make_shared<NodeSample>(), {ActiveFinding{ProcessKey{1, 1}, "a", "/a", {}, backlog, 0},
                                                    ActiveFinding{ProcessKey{2, 2}, "b", "/b", {}, heap, 0}});
  std::map<std::string, std::vector<double>> values;
  for (const auto& family : exporter.Collect()) {
    for (const auto& m : family.metric) values[family.name].push_back(m.gauge.value);
  }
  EXPECT_EQ(values["leakwatch_leak_growth_share"], (std::vector<double>{0.8, 0.6}));
  EXPECT_EQ(values["leakwatch_leak_ingress_correlation"], (std::vector<double>{0.95}));
}

TEST(MetricsExporter, OnlyBuildAndBackendBeforeTheFirstSample) {
  MetricsExporter exporter(ExportLimits{});
  const auto families = exporter.Collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "leakwatch_build_info");
  EXPECT_EQ(families[1].name, "leakwatch_backend_info");
  EXPECT_FALSE(exporter.has_sample());
}

bool has_label(const prometheus::ClientMetric& m, const std::string& name, const std::string& value) {
  return std::ranges::any_of(m.label, [&](const auto& l) { return l.name == name && l.value == value; });
}

TEST(MetricsExporter, SaysWhichNodeKernelBackendAndHowOftenItSamples) {
  MetricsExporter exporter(
      ExportLimits{},
      AgentInfo{.node = "node-7", .interval = std::chrono::milliseconds(2500), .kernel_release = "6.1.0-37-amd64"});
  const auto families = exporter.Collect();
  ASSERT_EQ(families.size(), 4u);
  EXPECT_TRUE(has_label(families[0].metric.at(0), "node", "node-7"));
  EXPECT_EQ(families[1].name, "leakwatch_kernel_info");
  EXPECT_TRUE(has_label(families[1].metric.at(0), "release", "6.1.0-37-amd64"));
  EXPECT_EQ(families[2].name, "leakwatch_backend_info");
  EXPECT_TRUE(has_label(families[2].metric.at(0), "sockets", "bpf_iter_task_file"));
  EXPECT_TRUE(has_label(families[2].metric.at(0), "closes", "tp_btf_inet_sock_set_state"));
  EXPECT_EQ(families[3].name, "leakwatch_sampling_interval_seconds");
  EXPECT_DOUBLE_EQ(families[3].metric.at(0).gauge.value, 2.5);
}

TEST(MetricsExporter, TheNetlinkBackendSaysWhereItsClosesComeFrom) {
  for (const auto& [closes, owners] : {std::pair{"sock_diag_destroy", "sock_diag_cookie"}, {"none", "none"}}) {
    AgentInfo netlink;
    netlink.socket_backend = "netlink";
    netlink.closes = closes;
    MetricsExporter exporter(ExportLimits{}, netlink);
    const auto families = exporter.Collect();
    ASSERT_EQ(families.size(), 2u);
    const auto& backend = families[1].metric.at(0);
    EXPECT_TRUE(has_label(backend, "sockets", "sock_diag"));
    EXPECT_TRUE(has_label(backend, "closes", closes));
    EXPECT_TRUE(has_label(backend, "owners", owners));
  }
}

}  // namespace
}  // namespace lw::test
