// Lint of the Grafana dashboards and the alert rules in dashboards/: valid
// JSON, unique panel ids, the data source always the ${datasource}
// variable, every variable defined, and every metric a panel, a variable or
// a rule uses one that docs/METRICS.md lists (or one Prometheus adds to
// every target). No Prometheus needed; the live test runs the queries.
#include <gtest/gtest.h>

#include <cctype>
#include <regex>
#include <set>
#include <sstream>

#include "dashboard_model.h"

namespace lw::test {
namespace {

const std::filesystem::path kSource = LW_SOURCE_DIR;
const std::filesystem::path kDashboards = kSource / "dashboards";

// Where `datasource` may point: the variable, or Grafana's built-in
// annotation source.
void expect_no_hard_coded_datasource(const nlohmann::json& node, const std::string& where) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "datasource") {
        if (value.is_string()) {
          EXPECT_TRUE(value == "${datasource}" || value == "$datasource") << where << ": datasource " << value;
        } else if (value.is_object()) {
          const std::string uid = value.value("uid", std::string());
          const std::string type = value.value("type", std::string());
          EXPECT_TRUE((uid == "${datasource}" && type == "prometheus") || (uid == "-- Grafana --" && type == "grafana"))
              << where << ": datasource " << value.dump();
        } else {
          ADD_FAILURE() << where << ": datasource " << value.dump();
        }
      }
      expect_no_hard_coded_datasource(value, where);
    }
  } else if (node.is_array()) {
    for (const auto& item : node) expect_no_hard_coded_datasource(item, where);
  }
}

void expect_documented(const std::string& promql, const std::string& where) {
  static const std::set<std::string> documented = documented_metrics(kSource / "docs" / "METRICS.md");
  std::set<std::string> names;
  ASSERT_NO_THROW(names = metric_names(promql)) << where << ": " << promql;
  for (const auto& name : names) {
    EXPECT_TRUE(documented.count(name) || prometheus_builtin_metrics().count(name))
        << where << " uses " << name << ", which docs/METRICS.md does not list: " << promql;
  }
}

TEST(DashboardLint, MetricNamesAreParsedOutOfPromQL) {
  EXPECT_EQ(
      metric_names(
          R"(sum by (instance, le) (rate(leakwatch_a_bucket{job=~"x|y", le!="1"}[5m])) / on (instance) group_left (v) up offset 1m > 1e6 and bool leakwatch_b)"),
      (std::set<std::string>{"leakwatch_a_bucket", "up", "leakwatch_b"}));
  EXPECT_EQ(metric_names(R"(count(leakwatch_x == 1) or vector(0) + time() - leakwatch_y{a="}{"})"),
            (std::set<std::string>{"leakwatch_x", "leakwatch_y"}));
  EXPECT_THROW(metric_names(R"(leakwatch_x{a="b)"), std::runtime_error);
  const auto documented = documented_metrics(kSource / "docs" / "METRICS.md");
  EXPECT_TRUE(documented.count("leakwatch_snapshot_duration_seconds_bucket"));
  EXPECT_TRUE(documented.count("leakwatch_cgroups_seen"));
  EXPECT_FALSE(documented.count("leakwatch_"));
}

TEST(DashboardLint, VariablesAreSubstituted) {
  EXPECT_EQ(
      substitute_variables(R"(rate(x{a=~"$instance", b=~"${cgroup:regex}", c="[[pid]]"}[$__rate_interval]) $unknown)",
                           test_variable_values()),
      R"(rate(x{a=~".*", b=~".*", c=".*"}[30s]) $unknown)");
}

TEST(DashboardLint, TheThreeDashboardsExist) {
  std::set<std::string> names;
  for (const auto& file : dashboard_files(kDashboards)) names.insert(file.filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"leakwatch-agent-health.json", "leakwatch-node-overview.json",
                                          "leakwatch-process.json"}));
}

TEST(DashboardLint, EveryDashboardIsValid) {
  std::set<std::string> uids;
  for (const auto& file : dashboard_files(kDashboards)) {
    const std::string name = file.filename().string();
    SCOPED_TRACE(name);
    nlohmann::json d;
    ASSERT_NO_THROW(d = read_json(file)) << "invalid JSON";
    ASSERT_TRUE(d.is_object());
    EXPECT_FALSE(d.value("title", std::string()).empty());
    EXPECT_TRUE(uids.insert(d.value("uid", std::string())).second) << "duplicate or missing uid";
    EXPECT_GE(d.value("schemaVersion", 0), 36);
    EXPECT_FALSE(d.contains("__inputs")) << "an export for sharing externally hard-codes its inputs";
    EXPECT_FALSE(d.contains("id") && !d["id"].is_null()) << "a database id ties the model to one Grafana";

    // The data source variable and the variables every query may use.
    std::set<std::string> defined{"__rate_interval", "__interval", "__range"};
    bool datasource_variable = false;
    for (const auto& v : d["templating"]["list"]) {
      defined.insert(v.value("name", std::string()));
      if (v.value("type", std::string()) == "datasource") {
        datasource_variable =
            v.value("name", std::string()) == "datasource" && v.value("query", std::string()) == "prometheus";
      }
    }
    EXPECT_TRUE(datasource_variable) << "no datasource variable of type prometheus";
    expect_no_hard_coded_datasource(d, name);

    std::set<int> ids;
    for (const auto& panel : all_panels(d)) {
      const std::string where = name + " panel '" + panel.value("title", std::string()) + "'";
      ASSERT_TRUE(panel.contains("id") && panel["id"].is_number_integer()) << where << ": no id";
      EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << where << ": duplicate id " << panel["id"];
      ASSERT_TRUE(panel.contains("gridPos")) << where;
      const std::string type = panel.value("type", std::string());
      if (type == "row" || type == "text") continue;
      const auto targets = panel.value("targets", nlohmann::json::array());
      EXPECT_FALSE(targets.empty()) << where << ": no query";
      std::set<std::string> refs;
      for (const auto& t : targets) {
        EXPECT_TRUE(refs.insert(t.value("refId", std::string())).second) << where << ": duplicate refId";
        ASSERT_TRUE(t.contains("expr") && !t["expr"].get<std::string>().empty()) << where << ": empty query";
      }
    }

    // Every query: variables all defined, metrics all exported.
    std::map<std::string, std::string> values = test_variable_values();
    for (const auto& q : panel_queries(d, name)) {
      const std::string where = q.panel + " " + q.ref_id;
      static const std::regex used(R"(\$\{?([A-Za-z0-9_]+))");
      for (std::sregex_iterator it(q.expr.begin(), q.expr.end(), used), end; it != end; ++it) {
        EXPECT_TRUE(defined.count((*it)[1].str())) << where << ": undefined variable " << (*it)[0].str();
      }
      const std::string expr = substitute_variables(q.expr, values);
      EXPECT_EQ(expr.find('$'), std::string::npos) << where << ": " << expr;
      expect_documented(expr, where);
    }
    std::vector<VariableQuery> variables;
    ASSERT_NO_THROW(variables = variable_queries(d, name));
    for (const auto& v : variables) expect_documented(substitute_variables(v.selector, values), "variable " + v.name);
  }
}

// Node, namespace and pod narrow every dashboard about processes and
// containers: each query of a per-process, per-cgroup or finding metric
// filters by the namespace and pod variables, each dashboard picks agents
// by node.
TEST(DashboardLint, NodeNamespaceAndPodVariablesFilterEveryWorkloadQuery) {
  static const std::regex workload_metric(R"(leakwatch_(process|cgroup|leak)_)");
  for (const auto& file : dashboard_files(kDashboards)) {
    const std::string name = file.filename().string();
    SCOPED_TRACE(name);
    const auto d = read_json(file);
    std::set<std::string> variables;
    for (const auto& v : d["templating"]["list"]) variables.insert(v.value("name", std::string()));
    EXPECT_TRUE(variables.contains("node"));
    size_t workload_queries = 0;
    for (const auto& q : panel_queries(d, name)) {
      if (!std::regex_search(q.expr, workload_metric)) continue;
      ++workload_queries;
      EXPECT_NE(q.expr.find(R"(namespace=~"$namespace")"), std::string::npos) << q.panel << ": " << q.expr;
      EXPECT_NE(q.expr.find(R"(pod=~"$pod")"), std::string::npos) << q.panel << ": " << q.expr;
    }
    if (workload_queries > 0) {
      EXPECT_TRUE(variables.contains("namespace") && variables.contains("pod"));
    }
  }
}

// The rules file: every leakwatch_ metric it names (expressions and the
// queries of annotation templates) is exported, and every runbook_url
// points to a section of docs/runbooks.md.
TEST(DashboardLint, AlertRulesUseExportedMetricsAndLinkExistingRunbookSections) {
  const std::string rules = read_text(kDashboards / "alerts" / "leakwatch-rules.yml");
  const auto documented = documented_metrics(kSource / "docs" / "METRICS.md");
  static const std::regex metric(R"(leakwatch_[a-z0-9_]+)");
  for (std::sregex_iterator it(rules.begin(), rules.end(), metric), end; it != end; ++it) {
    EXPECT_TRUE(documented.count(it->str())) << "the rules use " << it->str() << ", not in docs/METRICS.md";
  }

  // GitHub's heading anchors: lower case, spaces to '-', punctuation dropped.
  std::set<std::string> anchors;
  static const std::regex heading(R"(^#{1,6}\s+(.*)$)");
  std::istringstream lines(read_text(kSource / "docs" / "runbooks.md"));
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, heading)) continue;
    std::string anchor;
    for (const char c : m[1].str()) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
        anchor += static_cast<char>(std::tolower(c));
      if (c == ' ') anchor += '-';
    }
    anchors.insert(anchor);
  }
  static const std::regex alert(R"(- alert: (\w+))");
  static const std::regex runbook(R"(runbook_url: \S+/docs/runbooks\.md#(\S+))");
  std::vector<std::string> alerts, links;
  for (std::sregex_iterator it(rules.begin(), rules.end(), alert), end; it != end; ++it) alerts.push_back((*it)[1]);
  for (std::sregex_iterator it(rules.begin(), rules.end(), runbook), end; it != end; ++it) links.push_back((*it)[1]);
  ASSERT_EQ(alerts.size(), links.size()) << "every rule needs a runbook_url into docs/runbooks.md";
  for (size_t i = 0; i < alerts.size(); ++i) {
    EXPECT_TRUE(anchors.count(links[i])) << alerts[i] << ": no section #" << links[i] << " in docs/runbooks.md";
    std::string expected = alerts[i];
    for (auto& c : expected) c = static_cast<char>(std::tolower(c));
    EXPECT_EQ(links[i], expected) << alerts[i] << " links another alert's section";
  }
}

}  // namespace
}  // namespace lw::test
