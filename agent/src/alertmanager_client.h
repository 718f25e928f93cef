// Posts leak findings to an Alertmanager through its v2 API. Active findings
// are re-posted every round with an end time a few rounds ahead, as
// Alertmanager expects from a client; a finding that ends is posted once
// more with its end time set to now, so the alert resolves at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/leak_detector.h"

namespace lw {

struct AlertDelivery {
  uint64_t posts_ok = 0;
  uint64_t posts_failed = 0;  // unreachable, timed out, or not a 2xx answer
};

// The alerts body of POST /api/v2/alerts for these findings. `valid_for` is
// how long an active alert stays firing without being posted again.
nlohmann::json alerts_body(const std::vector<ActiveFinding>& active, const std::vector<FindingChange>& changes,
                           const std::string& node, std::chrono::system_clock::time_point now,
                           std::chrono::seconds valid_for);

class AlertmanagerClient {
 public:
  // url: "http://host:port"; node: the label that says which node reports.
  AlertmanagerClient(std::string url, std::string node);
  // One round: posts what is active and what ended. Never throws; a failed
  // post is counted and logged, and the next round posts again.
  void post(const std::vector<ActiveFinding>& active, const std::vector<FindingChange>& changes,
            std::chrono::seconds valid_for);
  const AlertDelivery& delivery() const { return delivery_; }

 private:
  std::string host_;
  std::string port_;
  std::string node_;
  AlertDelivery delivery_;
};

}  // namespace lw
