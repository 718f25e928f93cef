// Scrapes a Prometheus endpoint over HTTP on loopback and parses the text
// exposition format, so tests check what Prometheus itself would read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lw::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class Scrape {
 public:
  explicit Scrape(std::vector<PromSample> samples) : samples_(std::move(samples)) {}
  // Samples of a metric whose labels include all of `match`.
  std::vector<PromSample> find(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
  // The value of the single sample that matches; nullopt if none or several.
  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
  size_t series() const { return samples_.size(); }
  const std::vector<PromSample>& samples() const { return samples_; }

 private:
  std::vector<PromSample> samples_;
};

// GET http://127.0.0.1:port/metrics; throws std::runtime_error on failure.
std::string http_get(uint16_t port, const std::string& path);
std::vector<PromSample> parse_prometheus_text(const std::string& text);
Scrape scrape(uint16_t port);

}  // namespace lw::test
