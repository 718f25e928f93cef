#include "agent_config.h"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>

#include "flags/shared_flags.h"
#include "util/error.h"
#include "util/text_parse.h"

namespace lw {
namespace {

using text::parse_integer;

// Sampling every process more often than this costs more CPU than the
// agent may take from the node it watches.
constexpr std::chrono::milliseconds kMinInterval{100};
// BPF ring buffers must be a power of two and at least one page; the kernel
// refuses data areas of 2 GiB or more (max_entries is 32 bits).
constexpr size_t kMinRingBufferBytes = 4096;
constexpr size_t kMaxRingBufferBytes = size_t{1} << 30;

// CLI11 2.1 names an unknown config-file key only inside this message.
constexpr std::string_view kUnknownKeyMessage = "INI was not able to parse ";
// A config file of every setting is under 2 KiB; this is far beyond it and
// still quick to read.
constexpr size_t kMaxConfigBytes = size_t{1} << 20;

constexpr std::array<std::pair<std::string_view, log::Level>, 4> kLogLevels{{
    {"debug", log::Level::debug},
    {"info", log::Level::info},
    {"warn", log::Level::warn},
    {"error", log::Level::error},
}};
constexpr std::array<std::pair<std::string_view, log::Format>, 2> kLogFormats{{
    {"text", log::Format::text},
    {"json", log::Format::json},
}};

// Settings that need converting are collected as text and converted after
// CLI11 has merged flags and file, so a value from either gets the same
// checks and the same message. --help also wins over a bad value this way.
struct RawSettings {
  std::optional<std::string> interval, top_processes, top_endpoints, ring_buffer_bytes;
  std::optional<std::string> analysis_window, stall_after, page_after, record_dir, record_max_bytes;
  std::optional<std::string> alertmanager_url, alertmanager_ca_file, alertmanager_username, alertmanager_password_file,
      alertmanager_bearer_token_file, alertmanager_timeout;
  std::optional<std::string> log_level, log_format;
  std::string host_root;
  BackendFlags backend;
  std::optional<std::vector<std::string>> pids;
};

std::chrono::milliseconds to_interval(const std::string& text) {
  const auto interval = parse_duration(text);
  if (!interval) bad_value("interval", text, "use a number with a unit: 500ms, 5s, 1m");
  if (*interval < kMinInterval) {
    bad_value("interval", text, "sampling that often costs too much CPU: use 100ms or more");
  }
  return *interval;
}

std::chrono::milliseconds to_duration(std::string_view flag, const std::string& text) {
  const auto d = parse_duration(text);
  if (!d) bad_value(flag, text, "use a number with a unit: 30s, 5m, 1h");
  return *d;
}

// 0s is a valid choice here: page on the first round at warning or above.
std::chrono::milliseconds to_page_after(const std::string& text) {
  if (text == "0" || text == "0s") return std::chrono::milliseconds(0);
  const auto d = parse_duration(text);
  if (!d) bad_value("page-after", text, "use a number with a unit: 15m, 1h, or 0s to page at once");
  return *d;
}

// http:// or https:// to a host, an optional port and path prefix (an
// Alertmanager behind --web.route-prefix), checked by hand: libstdc++'s
// std::regex matcher recurses once per character, and a long value
// overflowed the stack (found by fuzzing the config file).
bool is_alertmanager_url(std::string_view text) {
  if (text.starts_with("https://")) {
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return false;
  }
  const auto path_start = text.find('/');
  const auto authority = text.substr(0, path_start);
  if (path_start != std::string_view::npos && text.find_first_of("?# \t\r\n", path_start) != std::string_view::npos) {
    return false;
  }
  std::string_view host = authority, port;
  bool has_port = false;
  if (authority.starts_with('[')) {  // [IPv6]
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    if (authority.substr(1, close - 1).find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return false;
    }
    host = authority.substr(0, close + 1);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port = authority.substr(colon + 1);
    if (host.find_first_of("[] \t\r\n") != std::string_view::npos) return false;
  }
  if (host.empty()) return false;
  return !has_port ||
         (!port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos);
}

// Credentials in the URL are refused: the URL is logged, secrets never are.
std::string to_alertmanager_url(const std::string& text) {
  if (text.find('@') != std::string::npos) {
    bad_value("alertmanager-url", "(not shown: it holds credentials)",
              "put no credentials in the URL; use --alertmanager-username and --alertmanager-password-file, or "
              "--alertmanager-bearer-token-file");
  }
  if (!is_alertmanager_url(text)) {
    bad_value("alertmanager-url", text,
              "use http(s)://HOST:PORT, e.g. http://alertmanager.monitoring:9093 or https://am.example.com");
  }
  std::string trimmed = text;
  while (trimmed.back() == '/') trimmed.pop_back();
  return trimmed;
}

// The content of a secret file (password, bearer token) without the
// trailing newline editors and `kubectl create secret` leave. Messages name
// the file, never what it holds.
std::string read_secret_file(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    bad_value(flag, path,
              fmt::format("cannot read it ({}): check the path and the mounted secret", std::strerror(err)));
  }
  // Bounded: a password or token is short, and a path such as /dev/zero
  // must not be read forever.
  constexpr size_t kMaxSecretBytes = 64 * 1024;
  std::string secret(kMaxSecretBytes + 1, '\0');
  in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
  secret.resize(static_cast<size_t>(in.gcount()));
  if (secret.size() > kMaxSecretBytes) bad_value(flag, path, "it is larger than 64 KiB: is it the right file?");
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
  if (secret.empty()) bad_value(flag, path, "the file is empty");
  return secret;
}

void check_readable_file(std::string_view flag, const std::string& path) {
  if (!std::ifstream(path)) {
    const int err = errno;
    bad_value(flag, path, fmt::format("cannot read it ({}): check the path", std::strerror(err)));
  }
}

// The --alertmanager-* settings together: each needs the URL, basic auth
// needs both halves, and it is basic auth or a bearer token, not both.
AlertmanagerConfig to_alertmanager(const RawSettings& raw) {
  AlertmanagerConfig am;
  const std::optional<std::string>* needs_url[] = {&raw.alertmanager_ca_file, &raw.alertmanager_username,
                                                   &raw.alertmanager_password_file, &raw.alertmanager_bearer_token_file,
                                                   &raw.alertmanager_timeout};
  if (!raw.alertmanager_url) {
    for (const auto* setting : needs_url) {
      if (*setting) throw Error(ErrorKind::usage, "the --alertmanager-* settings need --alertmanager-url");
    }
    return am;
  }
  am.url = to_alertmanager_url(*raw.alertmanager_url);
  if (raw.alertmanager_timeout) am.timeout = to_duration("alertmanager-timeout", *raw.alertmanager_timeout);
  if (raw.alertmanager_ca_file) {
    if (!am.url.starts_with("https://")) {
      bad_value("alertmanager-ca-file", *raw.alertmanager_ca_file, "a CA file needs an https:// --alertmanager-url");
    }
    check_readable_file("alertmanager-ca-file", *raw.alertmanager_ca_file);
    am.ca_file = *raw.alertmanager_ca_file;
  }
  if (raw.alertmanager_username.has_value() != raw.alertmanager_password_file.has_value()) {
    throw Error(ErrorKind::usage, "basic auth needs both --alertmanager-username and --alertmanager-password-file");
  }
  if (raw.alertmanager_username && raw.alertmanager_bearer_token_file) {
    throw Error(ErrorKind::usage,
                "use basic auth (--alertmanager-username, --alertmanager-password-file) or "
                "--alertmanager-bearer-token-file, not both");
  }
  if (raw.alertmanager_username) {
    if (raw.alertmanager_username->empty() || raw.alertmanager_username->find(':') != std::string::npos) {
      bad_value("alertmanager-username", *raw.alertmanager_username, "use a user name without ':'");
    }
    am.username = *raw.alertmanager_username;
    am.password = read_secret_file("alertmanager-password-file", *raw.alertmanager_password_file);
  }
  if (raw.alertmanager_bearer_token_file) {
    am.bearer_token = read_secret_file("alertmanager-bearer-token-file", *raw.alertmanager_bearer_token_file);
  }
  return am;
}

size_t to_top_count(std::string_view flag, const std::string& text) {
  const auto count = parse_integer<size_t>(text);
  if (!count || *count == 0) bad_value(flag, text, "use a whole number of 1 or more");
  return *count;
}

// Recordings are of chosen processes: one file per process of a whole
// node would be thousands of files and all of the limit in minutes.
void apply_recording(const RawSettings& raw, AgentConfig& config) {
  if (raw.record_max_bytes) {
    const auto bytes = parse_integer<uint64_t>(*raw.record_max_bytes);
    if (!bytes || *bytes < 4096)
      bad_value("record-max-bytes", *raw.record_max_bytes, "use a byte count of 4096 or more");
    if (!raw.record_dir) bad_value("record-max-bytes", *raw.record_max_bytes, "it needs --record-dir");
    config.record_max_bytes = *bytes;
  }
  if (!raw.record_dir) return;
  if (raw.record_dir->empty()) bad_value("record-dir", *raw.record_dir, "use a directory");
  if (config.pids.empty() && config.comm_pattern.empty() && config.cgroup_prefix.empty()) {
    bad_value("record-dir", *raw.record_dir,
              "it records the processes --pid, --comm or --cgroup-prefix choose: give one");
  }
  config.record_dir = *raw.record_dir;
}

size_t to_ring_buffer_bytes(const std::string& text) {
  const auto bytes = parse_integer<size_t>(text);
  if (!bytes || *bytes < kMinRingBufferBytes || *bytes > kMaxRingBufferBytes || !std::has_single_bit(*bytes)) {
    bad_value("ring-buffer-bytes", text, "use a power of two from 4096 to 1073741824 (1 GiB), e.g. 4194304");
  }
  return *bytes;
}

std::vector<pid_t> to_pids(const std::vector<std::string>& texts) {
  std::vector<pid_t> pids;
  for (const auto& text : texts) {
    const auto pid = parse_integer<pid_t>(text);
    if (!pid || *pid <= 0) bad_value("pid", text, "use a process ID, a whole number above 0");
    pids.push_back(*pid);
  }
  return pids;
}

template <typename Value, size_t N>
std::string choice_name(const std::array<std::pair<std::string_view, Value>, N>& choices, Value value) {
  for (const auto& [name, choice] : choices) {
    if (choice == value) return std::string(name);
  }
  return {};
}

template <typename Value, size_t N>
Value to_choice(std::string_view flag, const std::string& text,
                const std::array<std::pair<std::string_view, Value>, N>& choices) {
  for (const auto& [name, value] : choices) {
    if (text == name) return value;
  }
  std::string names;
  for (const auto& choice : choices) names += (names.empty() ? "" : ", ") + std::string(choice.first);
  bad_value(flag, text, "use one of " + names);
}

// A command name has at most 15 characters (TASK_COMM_LEN); libstdc++
// compiles a regex recursively, and a pattern of some ten thousand
// characters overflowed the stack instead of failing (found by fuzzing).
constexpr size_t kMaxCommPatternLength = 1024;

// libstdc++ reads the number of a backreference (\N) or a repeat ({N,M})
// into a long without a bound: past 18 digits it overflows, undefined
// behaviour (found by fuzzing). Matching a name of at most 15 characters
// needs counts of 2 digits at most.
constexpr size_t kMaxCommPatternDigits = 9;

// A pattern as a refusal quotes it: its first 32 characters.
std::string abbreviated(const std::string& pattern) {
  return pattern.size() > 32 ? pattern.substr(0, 32) + "..." : pattern;
}

size_t longest_number_in_a_pattern(std::string_view pattern) {
  size_t longest = 0;
  for (size_t i = 1; i < pattern.size(); ++i) {
    if (const char before = pattern[i - 1]; before != '\\' && before != '{' && before != ',') continue;
    size_t digits = 0;
    while (i + digits < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i + digits]))) digits++;
    longest = std::max(longest, digits);
  }
  return longest;
}

void check_comm_pattern(const std::string& pattern) {
  if (pattern.size() > kMaxCommPatternLength) {
    bad_value("comm", abbreviated(pattern),
              fmt::format("a pattern of {} characters; a command name has at most 15, use at most {}", pattern.size(),
                          kMaxCommPatternLength));
  }
  if (const size_t digits = longest_number_in_a_pattern(pattern); digits > kMaxCommPatternDigits) {
    bad_value("comm", abbreviated(pattern),
              fmt::format("a backreference or repeat count of {} digits; a command name has at most 15 characters, "
                          "use at most {} digits",
                          digits, kMaxCommPatternDigits));
  }
  try {
    static_cast<void>(std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error& error) {
    bad_value("comm", pattern, fmt::format("not an ECMAScript regex ({})", error.what()));
  }
}

bool is_listen_host(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']') && host.size() > 2) {
    const std::string address(host.substr(1, host.size() - 2));
    in6_addr parsed{};
    return ::inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
  }
  // civetweb reads 999.1.1.1 as 231.1.1.1 and listens there: what looks
  // like an IPv4 address must be one.
  if (!host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos) {
    const std::string address(host);
    in_addr parsed{};
    return ::inet_pton(AF_INET, address.c_str(), &parsed) == 1;
  }
  // A bare IPv6 address would make the port ambiguous.
  return !host.empty() && host.find_first_of(":[] \t") == std::string_view::npos;
}

void check_listen_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || !is_listen_host(std::string_view(address).substr(0, colon)) ||
      !parse_integer<uint16_t>(std::string_view(address).substr(colon + 1))) {
    bad_value("listen-address", address,
              fmt::format("use host:port or [ipv6]:port with a port 0-65535 (0 picks a free one), e.g. 0.0.0.0:{}",
                          kDefaultAgentPort));
  }
}

// Keeps the text of a flag for converting after the parse.
CLI::Option* add_text_option(CLI::App& app, const std::string& name, std::optional<std::string>& target,
                             const std::string& help, const std::string& shown_default) {
  const auto keep = [&target](const std::string& value) { target = value; };
  return app.add_option_function<std::string>(name, keep, help)->default_str(shown_default);
}

// The --alertmanager-* flags, in one table: name, where the text goes,
// type, help, shown default.
void add_alertmanager_options(CLI::App& app, RawSettings& raw) {
  struct TextFlag {
    const char* name;
    std::optional<std::string> RawSettings::*target;
    const char* type;
    const char* help;
    std::string shown_default;
  };
  const auto timeout = std::chrono::duration_cast<std::chrono::seconds>(AlertmanagerConfig{}.timeout);
  const TextFlag flags[] = {
      {"--alertmanager-url", &RawSettings::alertmanager_url, "URL",
       "Post findings as alerts to this Alertmanager (its v2 API): http(s)://HOST:PORT", "none"},
      {"--alertmanager-ca-file", &RawSettings::alertmanager_ca_file, "FILE",
       "PEM file of the CAs that sign an https:// Alertmanager's certificate", "the system's CAs"},
      {"--alertmanager-username", &RawSettings::alertmanager_username, "USER",
       "Basic auth user for the Alertmanager (with --alertmanager-password-file)", "none"},
      {"--alertmanager-password-file", &RawSettings::alertmanager_password_file, "FILE",
       "File holding the basic auth password, read at start", "none"},
      {"--alertmanager-bearer-token-file", &RawSettings::alertmanager_bearer_token_file, "FILE",
       "File holding a bearer token for the Alertmanager, read at start (not with basic auth)", "none"},
      {"--alertmanager-timeout", &RawSettings::alertmanager_timeout, "DURATION",
       "How long one post to the Alertmanager may take, connecting included", fmt::format("{}s", timeout.count())},
  };
  for (const auto& flag : flags) {
    add_text_option(app, flag.name, raw.*flag.target, flag.help, flag.shown_default)->type_name(flag.type);
  }
}

void add_options(CLI::App& app, AgentConfig& config, RawSettings& raw) {
  const AgentConfig defaults;
  app.add_option("--listen-address", config.listen_address, "Where to serve /metrics; port 0 picks a free one")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  add_text_option(app, "--interval", raw.interval, "Sampling interval: 500ms, 5s, 1m, 1.5s; 100ms or more",
                  fmt::format("{}ms", defaults.interval.count()))
      ->type_name("DURATION");
  add_text_option(app, "--top-processes", raw.top_processes,
                  "Per-process series only for the top K processes by footprint",
                  std::to_string(defaults.top_processes))
      ->type_name("K");
  add_text_option(app, "--top-endpoints", raw.top_endpoints,
                  "Remote endpoints per process; the rest are summed into \"other\"",
                  std::to_string(defaults.top_endpoints))
      ->type_name("K");
  app.add_option_function<std::vector<std::string>>(
         "--pid", [&raw](const std::vector<std::string>& pids) { raw.pids = pids; },
         "Watch only these PIDs (repeat the flag or separate with commas)")
      ->type_name("PID")
      ->delimiter(',');
  app.add_option("--comm", config.comm_pattern, "Watch only commands (comm) matching this ECMAScript regex")
      ->type_name("REGEX");
  app.add_option("--cgroup-prefix", config.cgroup_prefix, "Watch only processes in cgroups under this path")
      ->type_name("PATH");
  add_host_path_options(app, config.paths, raw.host_root);
  add_backend_options(app, raw.backend);
  add_text_option(app, "--log-level", raw.log_level, "debug, info, warn or error",
                  choice_name(kLogLevels, defaults.log_level))
      ->type_name("LEVEL");
  add_text_option(app, "--log-format", raw.log_format, "text, or json for log pipelines",
                  choice_name(kLogFormats, defaults.log_format))
      ->type_name("FORMAT");
  add_text_option(app, "--ring-buffer-bytes", raw.ring_buffer_bytes,
                  "Close-event ring buffer size: a power of two, 4096 to 1 GiB",
                  std::to_string(defaults.ring_buffer_bytes))
      ->type_name("BYTES");
  add_text_option(app, "--analysis-window", raw.analysis_window, "How much history a leak verdict looks at: 5m, 15m",
                  fmt::format("{}s", defaults.analysis.window_seconds))
      ->type_name("DURATION");
  add_text_option(app, "--stall-after", raw.stall_after,
                  "A socket with unread data whose read position stands still this long is a stalled reader",
                  fmt::format("{}s", defaults.analysis.stall_after_seconds))
      ->type_name("DURATION");
  add_text_option(app, "--page-after", raw.page_after,
                  "A finding of warning or critical severity pages (leakwatch_leak_paging, Alertmanager) once it has "
                  "held this long; info never pages",
                  fmt::format("{}s", std::chrono::duration_cast<std::chrono::seconds>(defaults.page_after).count()))
      ->type_name("DURATION");
  add_text_option(app, "--record-dir", raw.record_dir,
                  "Record every targeted process's samples here, one file each, for 'leakwatch analyze FILE'; "
                  "needs --pid, --comm or --cgroup-prefix",
                  "")
      ->type_name("DIR");
  add_text_option(app, "--record-max-bytes", raw.record_max_bytes,
                  "What all recordings together may take; lines past it are counted, not written",
                  std::to_string(defaults.record_max_bytes))
      ->type_name("BYTES");
  add_alertmanager_options(app, raw);
}

// A verdict needs min_samples samples in the window: at a 60 s interval the
// default 5 minutes held 5 (a round's jitter pushes the sixth out), and no
// leak was ever named as one. A window given too short for the interval is
// an error; the default one is widened.
void fit_window_to_interval(const RawSettings& raw, AgentConfig& config) {
  const auto needed =
      static_cast<double>(config.analysis.min_samples) * std::chrono::duration<double>(config.interval).count();
  if (config.analysis.window_seconds >= needed) return;
  if (raw.analysis_window) {
    bad_value("analysis-window", *raw.analysis_window,
              fmt::format("it holds fewer than the {} samples a verdict needs at this --interval: use {:g}s or more, "
                          "or a shorter --interval",
                          config.analysis.min_samples, needed));
  }
  config.analysis.window_seconds = needed;
  config.analysis_window_widened = true;
}

void apply(const RawSettings& raw, AgentConfig& config) {
  if (raw.interval) config.interval = to_interval(*raw.interval);
  if (raw.top_processes) config.top_processes = to_top_count("top-processes", *raw.top_processes);
  if (raw.top_endpoints) config.top_endpoints = to_top_count("top-endpoints", *raw.top_endpoints);
  if (raw.pids) config.pids = to_pids(*raw.pids);
  if (raw.log_level) config.log_level = to_choice("log-level", *raw.log_level, kLogLevels);
  if (raw.log_format) config.log_format = to_choice("log-format", *raw.log_format, kLogFormats);
  if (raw.ring_buffer_bytes) config.ring_buffer_bytes = to_ring_buffer_bytes(*raw.ring_buffer_bytes);
  const auto seconds = [](std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); };
  if (raw.analysis_window)
    config.analysis.window_seconds = seconds(to_duration("analysis-window", *raw.analysis_window));
  if (raw.stall_after) config.analysis.stall_after_seconds = seconds(to_duration("stall-after", *raw.stall_after));
  fit_window_to_interval(raw, config);
  if (raw.page_after) config.page_after = to_page_after(*raw.page_after);
  apply_recording(raw, config);
  config.alertmanager = to_alertmanager(raw);
  config.backend = to_backend_choice(raw.backend);
  check_listen_address(config.listen_address);
  check_comm_pattern(config.comm_pattern);
}

// CLI11's TOML reader, given only text it can read: it reads a file line
// by line to its end, so /dev/zero was read without end (one line growing
// until memory ran out), and control bytes (a binary, a corrupted file)
// reached messages and the terminal. The text is read bounded and checked
// first; a refusal is kept for the one-line message (CLI11 keeps only a
// FileError's text).
// Reads in chunks: a config is a few hundred bytes, and a buffer of the
// whole limit would be zeroed and faulted in on every read.
std::string read_at_most(std::istream& input, size_t limit) {
  std::string text;
  std::array<char, 4096> chunk{};
  while (text.size() < limit && input) {
    input.read(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), limit - text.size())));
    text.append(chunk.data(), static_cast<size_t>(input.gcount()));
  }
  return text;
}

class BoundedTomlReader final : public CLI::ConfigTOML {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::string text = read_at_most(input, kMaxConfigBytes + 1);
    if (input.bad()) refuse("cannot be read");
    // TOML allows no control characters but tab, CR and LF.
    const auto is_control = [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f;
    };
    if (const auto bad = std::find_if(text.begin(), text.end(), is_control); bad != text.end()) {
      refuse(fmt::format("is not a text file (byte 0x{:02x} at offset {}): give the TOML file of the settings",
                         static_cast<unsigned char>(*bad), bad - text.begin()));
    }
    if (text.size() > kMaxConfigBytes) refuse("is larger than 1 MiB: is it the right file?");
    std::istringstream stream(std::move(text));
    return CLI::ConfigTOML::from_config(stream);
  }
  // Why the file was refused, when it was.
  const std::optional<std::string>& refusal() const { return refusal_; }

 private:
  [[noreturn]] void refuse(std::string why) const {
    refusal_ = why;
    throw CLI::FileError(std::move(why));
  }
  mutable std::optional<std::string> refusal_;
};

std::string given_path(const CLI::Option& config_option) {
  const auto& files = config_option.results();
  return files.empty() ? std::string() : files.back();
}

// A "[section]" header reaches us as "section.++".
std::string describe_config_key(std::string_view name) {
  constexpr std::string_view kSectionMark = ".++";
  if (name.ends_with(kSectionMark)) {
    return fmt::format("section [{}]", name.substr(0, name.size() - kSectionMark.size()));
  }
  return fmt::format("key '{}'", name);
}

// Rewrites CLI11's messages for the mistakes it words least clearly.
Error usage_error(const CLI::ParseError& error, const CLI::Option& config_option, const BoundedTomlReader& reader) {
  const std::string_view message = error.what();
  if (dynamic_cast<const CLI::FileError*>(&error) != nullptr) {
    const auto path = given_path(config_option);
    if (reader.refusal()) {
      return Error(ErrorKind::usage, path.empty() ? fmt::format("the config {}", *reader.refusal())
                                                  : fmt::format("--config file '{}' {}", path, *reader.refusal()));
    }
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) {
      return Error(ErrorKind::usage,
                   fmt::format("--config file '{}' is a directory: give the TOML file of the settings", path));
    }
    return Error(ErrorKind::usage, fmt::format("cannot read --config file '{}': check the path", path));
  }
  if (dynamic_cast<const CLI::ConfigError*>(&error) != nullptr && message.starts_with(kUnknownKeyMessage)) {
    return Error(
        ErrorKind::usage,
        fmt::format("unknown {} in config file '{}': use top-level keys named like the long flags, "
                    "e.g. interval = \"10s\" (see leakwatch-agent --help)",
                    describe_config_key(message.substr(kUnknownKeyMessage.size())), given_path(config_option)));
  }
  return Error(ErrorKind::usage, fmt::format("{} (see leakwatch-agent --help)", message));
}

}  // namespace

namespace {

// One parser for flags and config text: run_parse feeds the app either.
template <typename RunParse>
std::variant<AgentConfig, HelpText> parse_with(RunParse run_parse) {
  CLI::App app{"leakwatch-agent: samples every process's memory and socket buffers, serves Prometheus metrics",
               "leakwatch-agent"};
  AgentConfig config;
  RawSettings raw;
  add_options(app, config, raw);
  auto* config_option =
      app.set_config("--config", "", "TOML file of the same settings, keyed by long flag name; flags win")
          ->type_name("FILE");
  const auto reader = std::make_shared<BoundedTomlReader>();
  app.config_formatter(reader);
  app.allow_config_extras(false);  // a misspelt key must fail, not be ignored
  app.set_version_flag("--version", std::string("leakwatch-agent ") + LEAKWATCH_VERSION);

  try {
    run_parse(app);
  } catch (const CLI::CallForHelp&) {
    return HelpText{app.help()};
  } catch (const CLI::CallForVersion& version) {
    return HelpText{std::string(version.what()) + "\n"};
  } catch (const CLI::ParseError& error) {
    throw usage_error(error, *config_option, *reader);
  }
  apply(raw, config);
  place_under_host_root(app, raw.host_root, config.paths);
  return config;
}

}  // namespace

std::variant<AgentConfig, HelpText> parse_agent_config(int argc, const char* const* argv) {
  return parse_with([&](CLI::App& app) { app.parse(argc, argv); });
}

std::variant<AgentConfig, HelpText> parse_agent_config_text(std::string_view toml) {
  return parse_with([&](CLI::App& app) {
    std::istringstream stream{std::string(toml)};
    app.parse_from_stream(stream);
  });
}

}  // namespace lw
