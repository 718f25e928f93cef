// The dashboards and alert rules against live data: the real Prometheus
// (Debian's `prometheus`) on loopback scrapes the real leakwatch-agent every
// second while real workloads leak in a memory cgroup with a limit; every
// panel query, every variable and every alert expression then goes through
// Prometheus's HTTP API and must parse and return data, and the leak alert
// must reach the firing state.
//
// The rules are loaded with every `for:` shortened to 5s (a variant this
// test writes into its temporary directory), so the leak alert fires within
// the test; the expressions, labels and annotations are the production ones.
#include <unistd.h>

#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "../unit/fake_files.h"
#include "bpf_test_support.h"
#include "dashboard_model.h"
#include "prometheus_scrape.h"
#include "running_agent.h"
#include "test_cgroup.h"

namespace lw::test {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kSource = LW_SOURCE_DIR;

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The TCP port a process listens on, from its socket fds and
// /proc/net/tcp; 0 while it listens on none. Lets Prometheus bind port 0.
uint16_t listening_port(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::istringstream table(read_text("/proc/" + std::to_string(pid) + "/net/tcp"));
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    if (state == "0A" && inodes.count(inode)) {
      return static_cast<uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
    }
  }
  return 0;
}

// The rules file with every `for:` set to 5s.
std::string rules_with_short_for() {
  static const std::regex for_line(R"((\n\s+for:) \S+)");
  return std::regex_replace(read_text(kSource / "dashboards" / "alerts" / "leakwatch-rules.yml"), for_line, "$1 5s");
}

// Prometheus scraping one target every second, with the rules evaluated
// every second.
class Prometheus {
 public:
  Prometheus(const std::filesystem::path& dir, uint16_t target_port) {
    std::ofstream(dir / "rules.yml") << rules_with_short_for();
    std::ofstream(dir / "prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                          << "rule_files:\n  - " << (dir / "rules.yml").string() << "\n"
                                          << "scrape_configs:\n  - job_name: leakwatch\n    static_configs:\n"
                                          << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir / "data").string(), "--web.listen-address=127.0.0.1:0",
                                 "--storage.tsdb.retention.time=1h"},
        /*merge_stderr=*/true);
    process_->keep_draining();
    // Listening, then ready (storage open, rules loaded).
    const auto ready = [&] {
      try {
        return !http_get(port_, "/-/ready").empty();
      } catch (const std::exception&) {
        return false;
      }
    };
    const bool up =
        eventually([&] { return (port_ = listening_port(process_->pid())) != 0; }, 30s) && eventually(ready, 30s);
    if (!up) throw std::runtime_error("Prometheus did not start: " + process_->drained_output());
  }
  std::string log() const { return process_->drained_output(); }

  // GET on the HTTP API; the JSON answer, or {"status": "error", "error": why}.
  nlohmann::json api(const std::string& path) const {
    try {
      return nlohmann::json::parse(http_get(port_, path));
    } catch (const std::exception& e) {
      return {{"status", "error"}, {"error", e.what()}};
    }
  }
  nlohmann::json query(const std::string& promql) const { return api("/api/v1/query?query=" + url_encode(promql)); }

 private:
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

bool has_data(const nlohmann::json& answer) {
  return answer.value("status", "") == "success" && !answer["data"]["result"].empty();
}

// A memory limit (and TCP accounting on cgroup v1) for the test cgroup, so
// the limit, the socket accounting and the time to the limit exist.
void limit_memory(const std::string& cgroup_path) {
  const std::filesystem::path v1 = "/sys/fs/cgroup/memory" + cgroup_path;
  const std::filesystem::path v2 = "/sys/fs/cgroup/unified" + cgroup_path;
  if (std::filesystem::exists(v1 / "memory.limit_in_bytes")) {
    std::ofstream(v1 / "memory.limit_in_bytes") << (2LL << 30);
    std::ofstream(v1 / "memory.kmem.tcp.limit_in_bytes") << (1LL << 30);
  } else {
    for (const auto& dir : {std::filesystem::path("/sys/fs/cgroup" + cgroup_path), v2}) {
      if (std::filesystem::exists(dir / "memory.max")) std::ofstream(dir / "memory.max") << (2LL << 30);
    }
  }
}

class DashboardLiveTest : public BpfTest {};

// The workloads run as the container "app" of the pod shop/web-0: a
// kubepods-shaped cgroup and the kubelet's log directories for it.
struct SimulatedPod {
  std::string ns = "shop", pod = "web-0", container = "app";
  std::string uid = fmt::format("5a1e0c3d-77b2-4f4e-9d6a-{:012d}", getpid());
  std::string container_id = fmt::format("{:064x}", getpid());
  std::string cgroup_name() const {
    return "leakwatch-test-dashboards-" + std::to_string(getpid()) + "/kubepods/burstable/pod" + uid + "/" +
           container_id;
  }
};

TEST_F(DashboardLiveTest, EveryPanelQueryAndAlertWorksAgainstTheRealAgent) {
  TempDir dir;
  const SimulatedPod pod;
  add_kubelet_container_log(dir.path() / "var" / "log", pod.ns, pod.pod, pod.uid, pod.container, pod.container_id);
  TestCgroup cgroup(pod.cgroup_name());
  limit_memory(cgroup.path());

  // A heap leak, and a pooled client that opens a connection to a stream
  // every 500 ms and never reads it: receive backlog and connection leak,
  // with remote endpoints.
  ChildProcess heap(cgroup.wrap(
      {LW_WORKLOAD_PATH, "heap-grow", "--bytes-per-second", "4000000", "--cap", "600000000", "--max-seconds", "240"}));
  heap.expect_line("ready");
  heap.keep_draining();
  ChildProcess server(cgroup.wrap({LW_WORKLOAD_PATH, "serve", "--bind", "127.0.0.1", "--port", "0", "--stream",
                                   "--rate", "50000", "--max-seconds", "240"}));
  const std::string stream_port = server.expect_line("ready ");
  server.keep_draining();
  ChildProcess client(cgroup.wrap({LW_WORKLOAD_PATH, "connect", "--to", "127.0.0.1", "--port", stream_port, "--count",
                                   "0", "--open-every", "500", "--max-connections", "300", "--max-seconds", "240"}));
  client.keep_draining();

  RunningAgent agent(LW_AGENT_PATH,
                     {"--interval", "1s", "--analysis-window", "20s", "--stall-after", "5s", "--page-after", "5s",
                      "--cgroup-prefix", cgroup.path(), "--host-log", (dir.path() / "var" / "log").string()});
  Prometheus prometheus(dir.path(), agent.port());
  const std::string heap_pid = std::to_string(heap.pid());

  // The leak alert fires: the agent needs about 10 rounds for a finding, then
  // holds it for its (shortened) --page-after.
  nlohmann::json firing;
  ASSERT_TRUE(eventually(
      [&] {
        const auto alerts = prometheus.api("/api/v1/alerts");
        for (const auto& a : alerts["data"]["alerts"]) {
          if (a["labels"].value("alertname", "") == "LeakwatchLeakSuspected" &&
              a["labels"].value("pid", "") == heap_pid && a["labels"].value("kind", "") == "heap-growth" &&
              a.value("state", "") == "firing") {
            firing = a;
            return true;
          }
        }
        return false;
      },
      90s))
      << "LeakwatchLeakSuspected never fired for the heap leak\nagent log:\n"
      << agent.log() << "\nPrometheus log:\n"
      << prometheus.log();
  EXPECT_EQ(firing["labels"].value("job", ""), "leakwatch");
  EXPECT_EQ(firing["labels"].value("comm", ""), "lw-workload");
  EXPECT_EQ(firing["labels"].value("namespace", ""), pod.ns);
  EXPECT_EQ(firing["labels"].value("pod", ""), pod.pod);
  EXPECT_EQ(firing["labels"].value("container", ""), pod.container);
  EXPECT_NE(firing["annotations"].value("description", "").find("growing"), std::string::npos);
  EXPECT_EQ(firing["annotations"]["description"].get<std::string>().find("(unknown)"), std::string::npos)
      << "the description's query of the growth found nothing: " << firing["annotations"].dump();
  EXPECT_NE(firing["annotations"].value("runbook_url", "").find("docs/runbooks.md#leakwatchleaksuspected"),
            std::string::npos);

  // Every panel query parses and returns data. Some need a few more rounds
  // (rates over 30s, findings of the stream client): each gets until a
  // common deadline.
  // The pod's namespace and name selected, as a user drilling down would:
  // every panel about processes and containers must still show data.
  auto values = test_variable_values();
  values["namespace"] = pod.ns;
  values["pod"] = pod.pod;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const auto remaining = [&] {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                    std::chrono::milliseconds(0));
  };
  size_t panels = 0;
  for (const auto& file : dashboard_files(kSource / "dashboards")) {
    const auto dashboard = read_json(file);
    for (const auto& q : panel_queries(dashboard, file.filename().string())) {
      ++panels;
      const std::string expr = substitute_variables(q.expr, values);
      nlohmann::json answer;
      EXPECT_TRUE(eventually(
                      [&] {
                        answer = prometheus.query(expr);
                        return has_data(answer) ||
                               answer.value("error", "").find(" 400 ") != std::string::npos;  // will not parse
                      },
                      remaining()) &&
                  has_data(answer))
          << q.dashboard << ", panel " << q.panel << " " << q.ref_id << ": " << expr << "\n-> " << answer.dump();
    }
    for (const auto& v : variable_queries(dashboard, file.filename().string())) {
      const std::string selector = substitute_variables(v.selector, values);
      nlohmann::json answer;
      EXPECT_TRUE(eventually(
          [&] {
            answer = prometheus.api("/api/v1/label/" + v.label + "/values?match[]=" + url_encode(selector));
            return answer.value("status", "") == "success" && !answer["data"].empty();
          },
          remaining()))
          << v.dashboard << ", variable " << v.name << ": " << selector << "\n-> " << answer.dump();
    }
  }
  EXPECT_GE(panels, 50u);

  // Every alert expression parses and evaluates without error; every metric
  // it uses is served; the leak alert's expression returns the finding.
  // The others return nothing by design here (the agent is up, no
  // CLOSE_WAIT workload, the limit is hours away).
  const auto rules = prometheus.api("/api/v1/rules");
  ASSERT_EQ(rules.value("status", ""), "success") << rules.dump();
  size_t alert_rules = 0;
  for (const auto& group : rules["data"]["groups"]) {
    for (const auto& rule : group["rules"]) {
      ++alert_rules;
      const std::string name = rule.value("name", ""), expr = rule.value("query", "");
      EXPECT_EQ(rule.value("health", ""), "ok") << name << ": " << rule.dump();
      const auto answer = prometheus.query(expr);
      EXPECT_EQ(answer.value("status", ""), "success") << name << ": " << expr << "\n-> " << answer.dump();
      if (name == "LeakwatchLeakSuspected") {
        EXPECT_TRUE(has_data(answer)) << expr << "\n-> " << answer.dump();
      }
      for (const auto& metric : metric_names(expr)) {
        EXPECT_TRUE(has_data(prometheus.query(metric))) << name << " uses " << metric << ", which has no series";
      }
    }
  }
  EXPECT_EQ(alert_rules, 8u);
}

}  // namespace
}  // namespace lw::test
