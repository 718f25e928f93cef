// The agent's alerting end to end, off its sampling path: the real binary
// posting a real finding to the real Alertmanager over HTTPS with basic
// auth, and to a server that never answers, all on loopback.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "alert_targets.h"
#include "bpf_test_support.h"
#include "running_agent.h"

namespace lw::test {
namespace {

using namespace std::chrono_literals;

// A process whose heap grows 4 MB/s: a heap-growth finding within the
// 20 s analysis window, so there is something to alert on.
class AlertingTest : public BpfTest {
 protected:
  void start_leak() {
    leaking_ = start_workload({"heap-grow", "--bytes-per-second", "4000000"});
    leaking_->expect_line("ready");
  }
  pid_t leaking_pid() const { return leaking_->pid(); }
  // The agent's flags for watching the leak and posting to url, paging at
  // once (what pages, and when, is PagingRule's, tested on its own).
  std::vector<std::string> watch_and_post_to(const std::string& url, std::vector<std::string> more) const {
    std::vector<std::string> args{"--pid",
                                  std::to_string(leaking_->pid()),
                                  "--interval",
                                  "500ms",
                                  "--analysis-window",
                                  "20s",
                                  "--page-after",
                                  "0s",
                                  "--alertmanager-url",
                                  url};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

 private:
  std::unique_ptr<ChildProcess> leaking_;
};

double posts(const Scrape& s, const std::string& result) {
  return s.value("leakwatch_alert_posts_total", {{"result", result}}).value_or(-1);
}

std::string write_secret(const Alertmanager& am, const std::string& name, const std::string& secret) {
  const auto path = am.dir() / name;
  std::ofstream(path) << secret << "\n";
  return path.string();
}

TEST_F(AlertingTest, HttpsWithBasicAuthDeliversAndRefusedPostsAreCounted) {
  const std::string password = "correct-horse-battery", wrong = "wrong-horse-battery";
  Alertmanager am({.tls = true, .username = "leakwatch", .password = password});
  start_leak();
  const std::string right_file = write_secret(am, "password", password);
  const std::string wrong_file = write_secret(am, "wrong-password", wrong);
  RunningAgent good(LW_AGENT_PATH,
                    watch_and_post_to(am.url(), {"--alertmanager-ca-file", am.ca_file(), "--alertmanager-username",
                                                 "leakwatch", "--alertmanager-password-file", right_file}));
  RunningAgent refused(LW_AGENT_PATH,
                       watch_and_post_to(am.url(), {"--alertmanager-ca-file", am.ca_file(), "--alertmanager-username",
                                                    "leakwatch", "--alertmanager-password-file", wrong_file}));
  // No CA file: the self-signed certificate must not be trusted.
  RunningAgent untrusting(LW_AGENT_PATH, watch_and_post_to(am.url(), {"--alertmanager-username", "leakwatch",
                                                                      "--alertmanager-password-file", right_file}));

  std::optional<nlohmann::json> alert;
  ASSERT_TRUE(eventually(
      [&] {
        alert = leak_alert(am.active_alerts(), leaking_pid(), "heap-growth");
        return alert.has_value();
      },
      60s))
      << "the alert never reached Alertmanager over HTTPS; agent log:\n"
      << good.log();
  EXPECT_EQ((*alert)["labels"]["comm"], "lw-workload");

  ASSERT_TRUE(eventually(
      [&] {
        return posts(good.scrape(), "ok") >= 1 && posts(refused.scrape(), "failed") >= 1 &&
               posts(untrusting.scrape(), "failed") >= 1;
      },
      30s))
      << "refused:\n"
      << refused.log() << "\nuntrusting:\n"
      << untrusting.log();
  EXPECT_EQ(posts(good.scrape(), "failed"), 0) << good.log();
  EXPECT_EQ(posts(refused.scrape(), "ok"), 0) << "a wrong password is refused (401)";
  EXPECT_EQ(posts(untrusting.scrape(), "ok"), 0) << "TLS is verified";
  EXPECT_NE(refused.log().find("401"), std::string::npos) << refused.log();
  for (const auto* agent : {&good, &refused, &untrusting}) {
    const std::string log = agent->log();
    EXPECT_EQ(log.find(password), std::string::npos) << "a secret was logged:\n" << log;
    EXPECT_EQ(log.find(wrong), std::string::npos) << "a secret was logged:\n" << log;
    // Built with -DLEAKWATCH_TSAN=ON: the sender thread races nothing.
    EXPECT_EQ(log.find("ThreadSanitizer"), std::string::npos) << log;
  }
}

// A target that accepts the connection and never answers: each post waits
// out --alertmanager-timeout, on the sender's thread. Sampling must keep
// its interval meanwhile, failures be counted, and the agent still stop
// promptly on SIGTERM.
TEST_F(AlertingTest, SamplingKeepsItsIntervalWhileTheAlertTargetHangs) {
  SilentServer silent;
  start_leak();
  RunningAgent agent(LW_AGENT_PATH, watch_and_post_to(silent.url(), {"--alertmanager-timeout", "15s"}));
  ASSERT_TRUE(eventually([&] { return silent.accepted() >= 1; }, 60s)) << "no post was ever attempted; agent log:\n"
                                                                       << agent.log();

  // The first post is in flight and will hang for 15 s. Five rounds (2.5 s
  // at 500 ms) complete before it fails: a post on the sampling thread
  // would hold its round for the whole timeout.
  const Scrape during = agent.after_rounds(5);
  EXPECT_EQ(posts(during, "failed"), 0) << "five rounds should have passed within the first post's timeout";
  EXPECT_GE(during.value("leakwatch_alert_payloads_dropped_total", {{"reason", "superseded"}}).value_or(0), 1)
      << "rounds that came while the post hung replaced each other's active sets";

  ASSERT_TRUE(eventually([&] { return posts(agent.scrape(), "failed") >= 1; }, 45s)) << agent.log();
  EXPECT_EQ(posts(agent.scrape(), "ok"), 0);
  EXPECT_NE(agent.log().find("timed out"), std::string::npos) << agent.log();

  // A retry may be in flight now or start at the final flush: either would
  // hang for 15 s more, but the flush gives up after 2 s.
  const auto start = std::chrono::steady_clock::now();
  agent.process().signal(SIGTERM);
  const int status = agent.process().wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the final flush is bounded in time";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << agent.log();
  EXPECT_EQ(agent.log().find("ThreadSanitizer"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace lw::test
