// docs/METRICS.md is the contract with dashboards, alert rules and users'
// queries: every family the exporter registers is in its tables with the
// same type, and every family the tables list is one the exporter registers.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "metrics_exporter.h"

namespace lw::test {
namespace {

std::string type_name(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    default: return "other";
  }
}

// Table rows: "| `name` | type ... |", or "| `a`, `b` | type ... |".
std::map<std::string, std::string> documented_families() {
  std::ifstream file(std::string(LW_SOURCE_DIR) + "/docs/METRICS.md");
  EXPECT_TRUE(file) << "docs/METRICS.md unreadable";
  static const std::regex row(R"(^\| (`leakwatch_[^|]*) \| (gauge|counter|histogram)\b)");
  static const std::regex name(R"(`(leakwatch_[a-z0-9_]+)`)");
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(file, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string names = m[1].str(), type = m[2].str();
    for (std::sregex_iterator it(names.begin(), names.end(), name), end; it != end; ++it) out[(*it)[1].str()] = type;
  }
  return out;
}

std::map<std::string, std::string> exported_families() {
  MetricsExporter exporter(ExportLimits{}, AgentInfo{"node-1", std::chrono::seconds(15), "6.18.0"});
  exporter.publish(std::make_shared<NodeSample>());
  std::map<std::string, std::string> out;
  for (const auto& family : exporter.Collect()) out[family.name] = type_name(family.type);
  return out;
}

TEST(MetricsDoc, ListsExactlyTheFamiliesTheExporterRegisters) {
  const auto documented = documented_families();
  const auto exported = exported_families();
  ASSERT_GT(exported.size(), 30u) << "the exporter registered too few families to compare";
  for (const auto& [name, type] : exported) {
    const auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << name << " (" << type << ") is exported but not in docs/METRICS.md";
    } else {
      EXPECT_EQ(it->second, type) << name << ": docs/METRICS.md says " << it->second << ", the exporter " << type;
    }
  }
  for (const auto& [name, type] : documented) {
    EXPECT_TRUE(exported.contains(name)) << name << " is in docs/METRICS.md but the exporter does not register it";
  }
}

}  // namespace
}  // namespace lw::test
