// Settings of leakwatch-agent, from its flags and an optional TOML config
// file (--config FILE; keys are the long flag names, e.g. interval = "10s").
// Flags win over the file. Everything is checked here, at start, so a typo
// in a DaemonSet fails the rollout at once instead of misbehaving for hours.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "analyze/analysis_config.h"
#include "collect/host_paths.h"
#include "collect/socket_source.h"
#include "util/log.h"

namespace lw {

// Prometheus keeps a registry of default exporter ports, but its range
// 9100-9999 has been fully allocated since 2023, so any port there already
// belongs to someone (9849, for one, is also Nacos's cluster gRPC port).
// 19849 is outside that range, unused by well-known services (kubelet and
// kube-proxy sit at 10248-10256, Netdata at 19999), and below Linux's
// ephemeral range (32768-60999), so on a hostNetwork node an outgoing
// connection can never have taken it before the agent binds.
inline constexpr uint16_t kDefaultAgentPort = 19849;

// Where and how findings are posted as alerts, as in Prometheus's own
// alerting config: TLS with a CA file, basic auth or a bearer token, the
// secrets read from files at start and never logged.
struct AlertmanagerConfig {
  std::string url;                           // "http(s)://host[:port][/prefix]"; empty: no alerts posted
  std::string ca_file;                       // PEM CAs to verify an https:// server; empty: the system's
  std::string username;                      // basic auth, with the password from --alertmanager-password-file
  std::string password;                      // the password file's content (secret)
  std::string bearer_token;                  // the bearer token file's content (secret)
  std::chrono::milliseconds timeout{10000};  // one post, connecting included
};

struct AgentConfig {
  std::string listen_address = "0.0.0.0:" + std::to_string(kDefaultAgentPort);  // host:port of /metrics
  std::chrono::milliseconds interval{5000};                                     // sampling interval
  size_t top_processes = 50;  // per-process series only for the top K processes by footprint
  size_t top_endpoints = 5;   // remote endpoints per process; the rest summed into "other"
  std::vector<pid_t> pids;    // target filter: only these PIDs (empty = all)
  std::string comm_pattern;   // target filter: ECMAScript regex on the command name (empty = all)
  std::string cgroup_prefix;  // target filter: cgroup path prefix (empty = all)
  HostPaths paths;            // --host-proc, --host-cgroup
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  size_t ring_buffer_bytes = 4u << 20;  // close-event ring buffer; power of two >= 4096
  AnalysisConfig analysis;              // --analysis-window, --stall-after
  // The default window was too short for --interval and was widened to hold
  // the samples a verdict needs; the agent says so at start.
  bool analysis_window_widened = false;
  // A finding of warning or above pages (leakwatch_leak_paging, Alertmanager)
  // once it has held this long; info never pages.
  std::chrono::milliseconds page_after{std::chrono::minutes(15)};
  // Recordings of the targeted processes for `leakwatch analyze`; empty: none.
  std::string record_dir;
  uint64_t record_max_bytes = uint64_t{256} << 20;  // all files together
  AlertmanagerConfig alertmanager;                  // --alertmanager-*
  BackendChoice backend;                            // --backend, --btf
};

// What --help or --version asked for. The caller prints it to stdout and exits 0.
struct HelpText {
  std::string text;
};

// Parses flags and the optional config file. Throws lw::Error(usage) with one
// line naming the bad flag or key, its value and what to use instead.
std::variant<AgentConfig, HelpText> parse_agent_config(int argc, const char* const* argv);
// The same settings from the text of a config file alone, parsed and checked
// exactly as --config FILE is (CLI11's TOML reader), with no flags.
std::variant<AgentConfig, HelpText> parse_agent_config_text(std::string_view toml);

}  // namespace lw
