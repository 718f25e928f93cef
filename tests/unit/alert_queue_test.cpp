// The alert queue's coalescing and the sender's retries and shutdown, with a
// fake poster in place of the network.
#include "alert_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "alertmanager_client.h"

namespace lw {
namespace {

using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;

ActiveFinding finding(pid_t pid, FindingKind kind = FindingKind::heap_growth) {
  ActiveFinding f;
  f.process = ProcessKey{pid, static_cast<uint64_t>(pid)};
  f.comm = "p" + std::to_string(pid);
  f.cgroup = "/test";
  f.finding.kind = kind;
  return f;
}

FindingChange ended(pid_t pid) { return {.started = false, .finding = finding(pid)}; }
FindingChange started(pid_t pid) { return {.started = true, .finding = finding(pid)}; }

std::vector<pid_t> pids(const std::vector<ActiveFinding>& findings) {
  std::vector<pid_t> out;
  for (const auto& f : findings) out.push_back(f.process->pid);
  return out;
}

std::vector<pid_t> pids(const std::vector<ResolvedFinding>& resolved) {
  std::vector<pid_t> out;
  for (const auto& r : resolved) out.push_back(r.finding.process->pid);
  return out;
}

// --- AlertQueue --------------------------------------------------------------

TEST(AlertQueue, ANewerActiveSetSupersedesOneNotYetPosted) {
  AlertQueue queue;
  const auto now = SystemClock::now();
  EXPECT_FALSE(queue.has_pending());
  EXPECT_EQ(queue.offer({finding(1)}, {started(1)}, now).superseded, 0u);
  EXPECT_EQ(queue.offer({finding(1), finding(2)}, {started(2)}, now).superseded, 1u);
  const AlertBatch batch = queue.take();
  ASSERT_TRUE(batch.active);
  EXPECT_EQ(pids(*batch.active), (std::vector<pid_t>{1, 2})) << "only the latest active set";
  EXPECT_TRUE(batch.resolved.empty()) << "a finding that started is in the active set, not a resolution";
  EXPECT_FALSE(queue.has_pending());
  EXPECT_EQ(queue.offer({}, {}, now).superseded, 0u) << "nothing was pending after take()";
}

TEST(AlertQueue, EveryResolutionIsKeptInOrderAcrossCoalescedRounds) {
  AlertQueue queue;
  const auto t0 = SystemClock::now();
  queue.offer({finding(2), finding(3)}, {ended(1)}, t0);
  queue.offer({finding(3)}, {ended(2)}, t0 + 1s);
  queue.offer({}, {ended(3)}, t0 + 2s);
  const AlertBatch batch = queue.take();
  EXPECT_EQ(pids(batch.resolved), (std::vector<pid_t>{1, 2, 3}));
  EXPECT_EQ(batch.resolved[1].ended_at, t0 + 1s) << "endsAt is when it ended, not when it is posted";
  ASSERT_TRUE(batch.active);
  EXPECT_TRUE(batch.active->empty());
  EXPECT_TRUE(batch.has_alerts());
}

TEST(AlertQueue, AFailedBatchComesBackUnlessSomethingNewerCame) {
  AlertQueue queue;
  const auto now = SystemClock::now();
  queue.offer({finding(5)}, {ended(1)}, now);
  AlertBatch failed = queue.take();
  EXPECT_EQ(queue.give_back(std::move(failed)).superseded, 0u);
  AlertBatch retried = queue.take();
  ASSERT_TRUE(retried.active);
  EXPECT_EQ(pids(*retried.active), (std::vector<pid_t>{5}));
  EXPECT_EQ(pids(retried.resolved), (std::vector<pid_t>{1}));

  // While it was being posted, a newer round came: the newer set wins, the
  // failed batch's resolution goes before the newer one.
  queue.offer({finding(6)}, {ended(2)}, now);
  const AlertDrops drops = queue.give_back(std::move(retried));
  EXPECT_EQ(drops.superseded, 1u);
  const AlertBatch next = queue.take();
  EXPECT_EQ(pids(*next.active), (std::vector<pid_t>{6}));
  EXPECT_EQ(pids(next.resolved), (std::vector<pid_t>{1, 2}));
}

TEST(AlertQueue, ResolutionsBeyondTheBoundDropTheOldestAndAreCounted) {
  AlertQueue queue(/*max_resolved=*/2);
  const auto now = SystemClock::now();
  EXPECT_EQ(queue.offer({}, {ended(1), ended(2)}, now).queue_full, 0u);
  EXPECT_EQ(queue.offer({}, {ended(3)}, now).queue_full, 1u);
  AlertBatch batch = queue.take();
  EXPECT_EQ(pids(batch.resolved), (std::vector<pid_t>{2, 3}));
  queue.offer({}, {ended(4)}, now);
  EXPECT_EQ(queue.give_back(std::move(batch)).queue_full, 1u);
  EXPECT_EQ(pids(queue.take().resolved), (std::vector<pid_t>{3, 4}));
}

TEST(AlertQueue, AnEmptyRoundHasNothingToPost) {
  AlertQueue queue;
  queue.offer({}, {started(1)}, SystemClock::now());
  EXPECT_TRUE(queue.has_pending());
  EXPECT_FALSE(queue.take().has_alerts());
}

TEST(Backoff, DoublesUpToItsBoundAndStartsOverAfterASuccess) {
  Backoff backoff(1s, 30s);
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 8; ++i) waits.push_back(backoff.after_failure());
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s}));
  for (int i = 0; i < 1000; ++i) backoff.after_failure();
  EXPECT_EQ(backoff.after_failure(), 30s) << "bounded after many failures";
  backoff.reset();
  EXPECT_EQ(backoff.after_failure(), 1s);
}

TEST(AlertsBody, ResolutionsFirstSoAFindingThatStartedAgainStaysFiring) {
  AlertBatch batch;
  const auto t0 = SystemClock::now();
  batch.resolved.push_back({finding(7), t0 - 10s});
  batch.active = std::vector<ActiveFinding>{finding(7)};
  const auto body = alerts_body(batch, "node-a", t0, 60s);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["labels"]["pid"], "7");
  EXPECT_EQ(body[1]["labels"]["pid"], "7");
  EXPECT_LT(body[0]["endsAt"].get<std::string>(), body[1]["endsAt"].get<std::string>());
  EXPECT_EQ(body[1]["labels"]["node"], "node-a");
}

// --- AlertSender, with a fake poster -------------------------------------------

// Records every body; fails while `failures` is above 0; blocks while
// `hold` is set, until released or cancelled.
class FakePoster : public AlertPoster {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<nlohmann::json> bodies;  // delivered
    int attempts = 0;
    int failures = 0;
    bool hold = false;
    bool was_cancelled = false;
  };
  explicit FakePoster(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void post(const std::string& json, const std::function<bool()>& cancelled) override {
    std::unique_lock lock(state_->mutex);
    state_->attempts++;
    state_->changed.notify_all();
    while (state_->hold) {
      if (cancelled()) {
        state_->was_cancelled = true;
        throw std::runtime_error("cancelled");
      }
      state_->changed.wait_for(lock, 5ms);
    }
    if (state_->failures > 0) {
      state_->failures--;
      throw std::runtime_error("refused");
    }
    state_->bodies.push_back(nlohmann::json::parse(json));
    state_->changed.notify_all();
  }

 private:
  std::shared_ptr<State> state_;
};

AlertSenderOptions fast_options() {
  AlertSenderOptions options;
  options.backoff_initial = 1ms;
  options.backoff_max = 4ms;
  options.final_flush = 200ms;
  return options;
}

template <typename Predicate>
bool wait_for(FakePoster::State& state, Predicate done) {
  std::unique_lock lock(state.mutex);
  return state.changed.wait_for(lock, 30s, [&] { return done(state); });
}

TEST(AlertSender, RetriesWithBackoffUntilDeliveredAndCountsEveryAttempt) {
  auto state = std::make_shared<FakePoster::State>();
  state->failures = 3;
  AlertSender sender(std::make_unique<FakePoster>(state), fast_options());
  sender.enqueue({finding(1)}, {ended(9)});
  ASSERT_TRUE(wait_for(*state, [](auto& s) { return !s.bodies.empty(); }));
  sender.stop();
  const AlertDelivery d = sender.counters()->snapshot();
  EXPECT_EQ(d.posts_failed, 3u);
  EXPECT_EQ(d.posts_ok, 1u);
  EXPECT_EQ(state->bodies.at(0).size(), 2u) << "the resolution of 9 survived three failed posts";
  EXPECT_EQ(state->bodies.at(0)[0]["labels"]["pid"], "9");
}

TEST(AlertSender, EnqueueNeverWaitsForAPostInFlight) {
  auto state = std::make_shared<FakePoster::State>();
  state->hold = true;
  AlertSender sender(std::make_unique<FakePoster>(state), fast_options());
  sender.enqueue({finding(1)}, {});
  ASSERT_TRUE(wait_for(*state, [](auto& s) { return s.attempts == 1; }));
  // The post hangs (held); a hundred rounds still go through at once.
  for (int round = 0; round < 100; ++round) sender.enqueue({finding(round)}, {});
  EXPECT_EQ(state->attempts, 1);
  EXPECT_EQ(sender.counters()->snapshot().dropped_superseded, 99u) << "all but the latest set were superseded";
  {
    std::lock_guard lock(state->mutex);
    state->hold = false;
  }
  ASSERT_TRUE(wait_for(*state, [](auto& s) { return s.bodies.size() == 2; }));
  EXPECT_EQ(state->bodies[1][0]["labels"]["pid"], "99") << "the latest set is posted next";
  sender.stop();
}

TEST(AlertSender, StopFlushesWhatIsPendingDespiteTheBackoff) {
  auto state = std::make_shared<FakePoster::State>();
  state->failures = 1;
  auto options = fast_options();
  options.backoff_initial = options.backoff_max = std::chrono::hours(1);
  AlertSender sender(std::make_unique<FakePoster>(state), options);
  sender.enqueue({finding(1)}, {});
  ASSERT_TRUE(wait_for(*state, [](auto& s) { return s.attempts == 1; }));
  sender.enqueue({finding(2)}, {ended(1)});  // waits an hour of backoff
  sender.stop();
  ASSERT_EQ(state->bodies.size(), 1u) << "the final flush posted what was pending";
  EXPECT_EQ(state->bodies[0].size(), 2u);
  EXPECT_EQ(sender.counters()->snapshot().posts_ok, 1u);
}

TEST(AlertSender, StopCancelsAHangingPostAtTheFlushDeadline) {
  auto state = std::make_shared<FakePoster::State>();
  state->hold = true;  // never released: only cancellation ends the post
  AlertSender sender(std::make_unique<FakePoster>(state), fast_options());
  sender.enqueue({finding(1)}, {});
  ASSERT_TRUE(wait_for(*state, [](auto& s) { return s.attempts == 1; }));
  const auto start = std::chrono::steady_clock::now();
  sender.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s) << "bounded by the flush deadline (200 ms)";
  EXPECT_TRUE(state->was_cancelled);
  EXPECT_EQ(sender.counters()->snapshot().posts_failed, 1u);
  sender.stop();  // idempotent
}

}  // namespace
}  // namespace lw
