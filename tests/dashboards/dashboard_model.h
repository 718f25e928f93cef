// Reads the Grafana dashboards and the alert rules of dashboards/: the
// PromQL of every panel and variable, with Grafana's variables substituted,
// and the metric names a query uses; shared by the lint and the live test.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace lw::test {

// One query of one panel.
struct PanelQuery {
  std::string dashboard;  // file name
  std::string panel;      // "title (id N)"
  std::string ref_id;
  std::string expr;      // as written, variables not substituted
  bool instant = false;  // a table of values now, not a range
};

// A `label_values(SELECTOR, LABEL)` template variable.
struct VariableQuery {
  std::string dashboard;
  std::string name;
  std::string selector;  // as written
  std::string label;
};

// The dashboards/*.json files, sorted.
std::vector<std::filesystem::path> dashboard_files(const std::filesystem::path& dir);
nlohmann::json read_json(const std::filesystem::path& file);
std::string read_text(const std::filesystem::path& file);

// Every panel, rows' nested panels included.
std::vector<nlohmann::json> all_panels(const nlohmann::json& dashboard);
std::vector<PanelQuery> panel_queries(const nlohmann::json& dashboard, const std::string& name);
// Throws std::runtime_error for a query variable that is not label_values(...).
std::vector<VariableQuery> variable_queries(const nlohmann::json& dashboard, const std::string& name);

// Replaces $name, ${name}, ${name:format} and [[name]] by values[name].
// Unknown variables are left as they are (the lint reports any '$' left).
std::string substitute_variables(const std::string& expr, const std::map<std::string, std::string>& values);
// What the tests substitute: every dashboard variable matches all
// (".*"), $__rate_interval 30s, $__interval 15s, $__range 5m.
std::map<std::string, std::string> test_variable_values();

// Metric names a PromQL expression selects: identifiers outside strings,
// label matchers, ranges and label lists that are neither functions nor
// keywords. Throws std::runtime_error on an unterminated string or bracket.
std::set<std::string> metric_names(const std::string& promql);

// The metrics docs/METRICS.md lists (histograms with _bucket, _sum, _count).
std::set<std::string> documented_metrics(const std::filesystem::path& metrics_md);
// Series Prometheus itself adds to every target, usable in any query.
const std::set<std::string>& prometheus_builtin_metrics();

}  // namespace lw::test
