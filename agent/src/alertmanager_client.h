// Posts leak findings to an Alertmanager through its v2 API, off the
// sampling path. Active findings are re-posted every round with an end time
// a few rounds ahead, as Alertmanager expects from a client; a finding that
// ends is posted once more with its end time set to when it ended, so the
// alert resolves at once.
//
// The sampling thread only hands the round's state to an AlertSender
// (enqueue never waits on the network); the sender's own thread posts it
// through libcurl, retries failures with a bounded exponential backoff, and
// counts what happened in atomics the metrics exporter reads at scrape time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent_config.h"
#include "alert_queue.h"
#include "analyze/leak_detector.h"

namespace lw {

// A copy of the counters, for one scrape.
struct AlertDelivery {
  uint64_t posts_ok = 0;
  uint64_t posts_failed = 0;        // unreachable, timed out, refused by TLS, or not a 2xx answer
  uint64_t dropped_superseded = 0;  // active sets replaced by a newer one before they were posted
  uint64_t dropped_queue_full = 0;  // resolutions dropped because too many waited
};

// Written by the sender (and the sampling thread, for drops), read by the
// exporter's threads: atomics only.
struct AlertCounters {
  std::atomic<uint64_t> posts_ok{0}, posts_failed{0}, dropped_superseded{0}, dropped_queue_full{0};
  void add(const AlertDrops& drops);
  AlertDelivery snapshot() const;
};

// The alerts body of POST /api/v2/alerts for this batch: resolutions first
// (endsAt: when each ended), then the active set (endsAt: now + valid_for,
// how long an active alert stays firing without being posted again), so a
// finding that ended and started again is left firing.
nlohmann::json alerts_body(const AlertBatch& batch, const std::string& node, std::chrono::system_clock::time_point now,
                           std::chrono::seconds valid_for);

// One HTTP POST of a JSON body. Throws std::runtime_error (a message safe to
// log: no secret) when it fails; gives up early once `cancelled` says so.
class AlertPoster {
 public:
  virtual ~AlertPoster() = default;
  virtual void post(const std::string& json, const std::function<bool()>& cancelled) = 0;
};

// POST {url}/api/v2/alerts through libcurl: TLS verified against the CA
// file (or the system's), basic auth or a bearer token, connect and total
// timeouts, no signals. The handle is kept, so connections are reused.
std::unique_ptr<AlertPoster> make_curl_poster(const AlertmanagerConfig& config);

struct AlertSenderOptions {
  std::string node;                    // the node label on every alert
  std::chrono::seconds valid_for{60};  // endsAt of active alerts, from the time of the post
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds final_flush{2000};  // how long stop() may spend posting what is pending
  size_t max_resolved = 1024;                   // resolutions kept while posts fail
  std::string target;                           // for log lines: the URL (never holds credentials)
};

class AlertSender {
 public:
  AlertSender(std::unique_ptr<AlertPoster> poster, AlertSenderOptions options);
  ~AlertSender();  // stop()
  AlertSender(const AlertSender&) = delete;
  AlertSender& operator=(const AlertSender&) = delete;

  // The sampling thread's one call per round. Takes a short lock the
  // sender never holds across a post; never blocks on the network.
  void enqueue(std::vector<ActiveFinding> active, const std::vector<FindingChange>& changes);
  // Stops the thread after one last post of what is pending, bounded by
  // final_flush (a post in flight is cancelled at that deadline). Idempotent.
  void stop();
  std::shared_ptr<const AlertCounters> counters() const { return counters_; }

 private:
  void run();
  // Posts one batch with the lock released; true when it was delivered.
  bool deliver(AlertBatch& batch, std::unique_lock<std::mutex>& lock);
  bool cancelled() const;

  std::unique_ptr<AlertPoster> poster_;
  AlertSenderOptions options_;
  std::shared_ptr<AlertCounters> counters_ = std::make_shared<AlertCounters>();
  std::mutex mutex_;
  std::condition_variable wake_;
  AlertQueue queue_;       // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  // steady_clock ticks after which a post in flight gives up; max until stop().
  std::atomic<int64_t> give_up_at_{INT64_MAX};
  bool failing_ = false;  // sender thread only: the last post failed
  std::thread thread_;
};

}  // namespace lw
