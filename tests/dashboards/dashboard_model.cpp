#include "dashboard_model.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace lw::test {
namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Index just past the string literal that starts at i.
size_t skip_string(const std::string& s, size_t i) {
  const char quote = s[i];
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '\\' && quote != '`') {
      ++j;
    } else if (s[j] == quote) {
      return j + 1;
    }
  }
  throw std::runtime_error("unterminated string in: " + s);
}

// Index just past the bracket group (strings inside skipped) that starts at i.
size_t skip_group(const std::string& s, size_t i, char open, char close) {
  int depth = 0;
  for (size_t j = i; j < s.size();) {
    if (s[j] == '"' || s[j] == '\'' || s[j] == '`') {
      j = skip_string(s, j);
      continue;
    }
    if (s[j] == open) depth++;
    if (s[j] == close && --depth == 0) return j + 1;
    ++j;
  }
  throw std::runtime_error(std::string("unbalanced '") + open + "' in: " + s);
}

const std::set<std::string>& keywords() {
  static const std::set<std::string> k{"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring",
                                       "group_left", "group_right", "inf", "nan", "Inf", "NaN", "atan2",
                                       // aggregations, which may put `by (...)` before their argument
                                       "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                                       "bottomk", "topk", "quantile"};
  return k;
}

// Keywords followed by a parenthesised list of label names, not metrics.
const std::set<std::string>& label_list_keywords() {
  static const std::set<std::string> k{"by", "without", "on", "ignoring", "group_left", "group_right"};
  return k;
}

}  // namespace

std::vector<std::filesystem::path> dashboard_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::json read_json(const std::filesystem::path& file) { return nlohmann::json::parse(read_text(file)); }

std::vector<nlohmann::json> all_panels(const nlohmann::json& dashboard) {
  std::vector<nlohmann::json> out;
  for (const auto& panel : dashboard.value("panels", nlohmann::json::array())) {
    out.push_back(panel);
    for (const auto& nested : panel.value("panels", nlohmann::json::array())) out.push_back(nested);
  }
  return out;
}

std::vector<PanelQuery> panel_queries(const nlohmann::json& dashboard, const std::string& name) {
  std::vector<PanelQuery> out;
  for (const auto& panel : all_panels(dashboard)) {
    for (const auto& target : panel.value("targets", nlohmann::json::array())) {
      if (!target.contains("expr")) continue;
      out.push_back(
          {name, panel.value("title", std::string()) + " (id " + panel.value("id", nlohmann::json()).dump() + ")",
           target.value("refId", std::string()), target["expr"].get<std::string>(), target.value("instant", false)});
    }
  }
  return out;
}

std::vector<VariableQuery> variable_queries(const nlohmann::json& dashboard, const std::string& name) {
  static const std::regex label_values(R"(^\s*label_values\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$)");
  std::vector<VariableQuery> out;
  for (const auto& variable : dashboard["templating"].value("list", nlohmann::json::array())) {
    if (variable.value("type", std::string()) != "query") continue;
    const auto& q = variable["query"];
    const std::string text = q.is_object() ? q.value("query", std::string()) : q.get<std::string>();
    std::smatch m;
    if (!std::regex_match(text, m, label_values)) {
      throw std::runtime_error(name + ": variable " + variable.value("name", std::string()) +
                               " is not label_values(SELECTOR, LABEL): " + text);
    }
    out.push_back({name, variable.value("name", std::string()), m[1].str(), m[2].str()});
  }
  return out;
}

std::string substitute_variables(const std::string& expr, const std::map<std::string, std::string>& values) {
  static const std::regex variable(R"(\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+))");
  std::string out;
  auto begin = expr.cbegin();
  for (std::sregex_iterator it(expr.begin(), expr.end(), variable), end; it != end; ++it) {
    const auto& m = *it;
    const std::string name = m[1].matched ? m[1].str() : m[2].matched ? m[2].str() : m[3].str();
    out.append(begin, m[0].first);
    const auto found = values.find(name);
    out += found != values.end() ? found->second : m[0].str();
    begin = m[0].second;
  }
  out.append(begin, expr.cend());
  return out;
}

std::map<std::string, std::string> test_variable_values() {
  return {{"node", ".*"},        {"instance", ".*"}, {"namespace", ".*"},
          {"pod", ".*"},         {"cgroup", ".*"},   {"comm", ".*"},
          {"pid", ".*"},         {"job", ".*"},      {"__rate_interval", "30s"},
          {"__interval", "15s"}, {"__range", "5m"}};
}

std::set<std::string> metric_names(const std::string& promql) {
  std::set<std::string> names;
  const std::string& s = promql;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, i);
    } else if (c == '{') {
      i = skip_group(s, i, '{', '}');
    } else if (c == '[') {
      i = skip_group(s, i, '[', ']');
    } else if (c == '#') {  // a comment runs to the end of the line
      const auto eol = s.find('\n', i);
      i = eol == std::string::npos ? s.size() : eol;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < s.size() && (ident_char(s[i]) || s[i] == '.')) ++i;  // numbers and durations: 1e6, 0x1f, 5m
    } else if (ident_start(c)) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      const std::string word = s.substr(i, j - i);
      size_t k = j;
      while (k < s.size() && std::isspace(static_cast<unsigned char>(s[k]))) ++k;
      const bool call = k < s.size() && s[k] == '(';
      if (call && label_list_keywords().count(word)) {
        i = skip_group(s, k, '(', ')');
        continue;
      }
      if (!call && !keywords().count(word)) names.insert(word);
      i = j;
    } else {
      ++i;
    }
  }
  return names;
}

std::set<std::string> documented_metrics(const std::filesystem::path& metrics_md) {
  static const std::regex name(R"(`(leakwatch_[a-z0-9_]*[a-z0-9])`)");
  std::set<std::string> out;
  std::istringstream lines(read_text(metrics_md));
  for (std::string line; std::getline(lines, line);) {
    const bool histogram = line.find("histogram") != std::string::npos;
    for (std::sregex_iterator it(line.begin(), line.end(), name), end; it != end; ++it) {
      const std::string metric = (*it)[1].str();
      out.insert(metric);
      if (histogram) {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) out.insert(metric + suffix);
      }
    }
  }
  return out;
}

const std::set<std::string>& prometheus_builtin_metrics() {
  static const std::set<std::string> builtins{"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                              "scrape_samples_post_metric_relabeling", "scrape_series_added"};
  return builtins;
}

}  // namespace lw::test
