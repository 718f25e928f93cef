#include "output/recording.h"

#include <fcntl.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "output/json_fields.h"
#include "util/error.h"

namespace lw {
namespace {

using json = nlohmann::ordered_json;

// Everything the analysis reads of an endpoint, exact: idle time in ms as
// kept, the stall counts that only a watch across samples knows.
json endpoint_json(const EndpointGroup& g) {
  json j = endpoint_counts_json(g);
  j["local_port"] = g.local_port;
  j["max_idle_ms"] = optional_value(g.max_idle_ms);
  j["stalled_sockets"] = g.stalled_sockets;
  j["stalled_unread_bytes"] = g.stalled_unread_bytes;
  j["max_stalled_seconds"] = g.max_stalled_seconds;
  j["stalled_peers"] = g.stalled_peers;
  j["stalled_peer_bytes"] = g.stalled_peer_bytes;
  j["max_peer_stalled_seconds"] = g.max_peer_stalled_seconds;
  return j;
}

// Reads one line's fields, naming the line and the field in every refusal.
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("", "expected a JSON object");
  }

  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw Error(ErrorKind::usage, fmt::format("{}{}{}: {}", where_, field.empty() ? "" : ": ", field, what));
  }

  const nlohmann::json& at(std::string_view field) const {
    const auto it = object_.find(field);
    if (it == object_.end()) fail(field, "missing");
    return *it;
  }
  Fields object(std::string_view field) const { return Fields(at(field), fmt::format("{}: {}", where_, field)); }

  double number(std::string_view field) const { return number_in(at(field), field); }
  std::optional<double> optional_number(std::string_view field) const {
    const auto& v = at(field);
    if (v.is_null()) return std::nullopt;
    return number_in(v, field);
  }
  uint64_t count(std::string_view field) const { return count_in(at(field), field); }
  // Fields added after version 1 first shipped: older recordings lack them.
  bool has(std::string_view field) const { return object_.contains(field); }
  std::optional<double> added_number(std::string_view field) const {
    return has(field) ? optional_number(field) : std::nullopt;
  }
  uint64_t added_count(std::string_view field) const { return has(field) ? count(field) : 0; }
  std::optional<uint64_t> optional_count(std::string_view field) const {
    const auto& v = at(field);
    if (v.is_null()) return std::nullopt;
    return count_in(v, field);
  }
  std::string text(std::string_view field) const {
    const auto& v = at(field);
    if (!v.is_string()) fail(field, "expected a string");
    return v.get<std::string>();
  }
  const nlohmann::json& array(std::string_view field) const {
    const auto& v = at(field);
    if (!v.is_array()) fail(field, "expected an array");
    return v;
  }
  Counts counts(std::string_view field) const {
    const auto& v = at(field);
    if (!v.is_object()) fail(field, "expected an object of counts");
    Counts out;
    for (const auto& [key, value] : v.items()) out[key] = count_in(value, fmt::format("{}.{}", field, key));
    return out;
  }
  const std::string& where() const { return where_; }

 private:
  double number_in(const nlohmann::json& v, std::string_view field) const {
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(field, "expected a finite number");
    return v.get<double>();
  }
  uint64_t count_in(const nlohmann::json& v, std::string_view field) const {
    if (!v.is_number_unsigned()) fail(field, "expected a whole number, 0 or more");
    return v.get<uint64_t>();
  }

  const nlohmann::json& object_;
  std::string where_;
};

uint16_t port_of(const Fields& f, std::string_view field) {
  const uint64_t port = f.count(field);
  if (port > std::numeric_limits<uint16_t>::max()) f.fail(field, "expected a port, 0 to 65535");
  return static_cast<uint16_t>(port);
}

EndpointGroup endpoint_from(const Fields& f) {
  EndpointGroup g;
  g.peer = f.text("peer");
  const std::string direction = f.text("direction");
  if (direction != "inbound" && direction != "outbound") f.fail("direction", "expected inbound or outbound");
  g.inbound = direction == "inbound";
  g.local_port = port_of(f, "local_port");
  g.connections = f.count("connections");
  g.states = f.counts("states");
  g.receive_queue_bytes = f.count("receive_queue_bytes");
  g.send_queue_bytes = f.count("send_queue_bytes");
  g.unread_bytes = f.count("unread_bytes");
  g.max_unread_bytes = f.count("max_unread_bytes");
  g.max_idle_ms = f.optional_count("max_idle_ms");
  g.stalled_sockets = f.count("stalled_sockets");
  g.stalled_unread_bytes = f.count("stalled_unread_bytes");
  g.max_stalled_seconds = f.number("max_stalled_seconds");
  g.stalled_peers = f.added_count("stalled_peers");
  g.stalled_peer_bytes = f.added_count("stalled_peer_bytes");
  g.max_peer_stalled_seconds = f.added_number("max_peer_stalled_seconds").value_or(0);
  return g;
}

Observation observation_from(const Fields& line) {
  Observation o;
  o.time = line.number("time_seconds");
  const Fields memory = line.object("memory");
  o.resident.anon = memory.optional_number("rss_anon_bytes");
  o.resident.file = memory.optional_number("rss_file_bytes");
  o.resident.shmem = memory.optional_number("rss_shmem_bytes");
  o.resident.total = memory.optional_number("rss_bytes");
  o.receive_queue_bytes = memory.number("socket_receive_queue_bytes");
  o.send_queue_bytes = memory.number("socket_send_queue_bytes");
  o.open_fds = line.optional_number("open_fds");
  const Fields cgroup = line.object("cgroup");
  o.memory_usage = cgroup.optional_number("usage_bytes");
  o.memory_limit = cgroup.optional_number("limit_bytes");
  const Fields sockets = line.object("sockets");
  o.socket_fds = sockets.number("descriptors");
  o.unread_bytes = sockets.number("unread_bytes");
  o.tcp_connections = sockets.number("tcp_connections");
  o.close_wait = sockets.number("close_wait");
  o.idle_connections = sockets.added_number("idle_connections");
  o.ingress_bytes_total = sockets.number("ingress_bytes_total");
  const auto& listeners = sockets.array("listeners");
  for (size_t i = 0; i < listeners.size(); ++i) {
    const Fields q(listeners[i], fmt::format("{}: sockets: listeners[{}]", line.where(), i));
    // A unix listener (added after version 1 first shipped) has a path instead of a port.
    ListenerQueue listener{.waiting = q.count("waiting"), .limit = q.count("limit")};
    if (q.has("path")) {
      listener.path = q.text("path");
      if (listener.path.empty()) q.fail("path", "expected a unix socket's path");
    } else {
      listener.port = port_of(q, "port");
    }
    o.listeners.push_back(std::move(listener));
  }
  const auto& endpoints = line.array("endpoints");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    o.endpoints.push_back(endpoint_from(Fields(endpoints[i], fmt::format("{}: endpoints[{}]", line.where(), i))));
  }
  return o;
}

RecordingHeader header_from(const Fields& f) {
  RecordingHeader h;
  const uint64_t pid = f.count("pid");
  if (pid == 0 || pid > static_cast<uint64_t>(std::numeric_limits<pid_t>::max())) f.fail("pid", "expected a PID");
  h.pid = static_cast<pid_t>(pid);
  h.command = f.text("command");
  h.start_time_ticks = f.count("start_time_ticks");
  h.cgroup = f.text("cgroup");
  h.interval_seconds = f.number("interval_seconds");
  h.window_seconds = f.number("window_seconds");
  h.stall_after_seconds = f.number("stall_after_seconds");
  if (f.has("longer_windows_seconds")) {
    const auto& spans = f.array("longer_windows_seconds");
    for (const auto& span : spans) {
      if (!span.is_number() || span.get<double>() <= 0) f.fail("longer_windows_seconds", "expected numbers above 0");
      h.longer_windows_seconds.push_back(span.get<double>());
    }
  }
  for (const auto& [field, value] : {std::pair{"interval_seconds", h.interval_seconds},
                                     {"window_seconds", h.window_seconds},
                                     {"stall_after_seconds", h.stall_after_seconds}}) {
    if (value <= 0) f.fail(field, "expected more than 0");
  }
  h.started_at = f.text("started_at");
  h.backend = f.text("backend");
  return h;
}

}  // namespace

AnalysisConfig analysis_config(const RecordingHeader& header) {
  AnalysisConfig config;
  config.window_seconds = header.window_seconds;
  config.longer_windows_seconds = header.longer_windows_seconds;
  config.stall_after_seconds = header.stall_after_seconds;
  return config;
}

json to_json(const RecordingHeader& h) {
  return {
      {"leakwatch_recording", kRecordingVersion},
      {"pid", h.pid},
      {"command", h.command},
      {"start_time_ticks", h.start_time_ticks},
      {"cgroup", h.cgroup},
      {"interval_seconds", h.interval_seconds},
      {"window_seconds", h.window_seconds},
      {"longer_windows_seconds", h.longer_windows_seconds},
      {"stall_after_seconds", h.stall_after_seconds},
      {"started_at", h.started_at},
      {"backend", h.backend},
  };
}

json to_json(const Observation& o) {
  json listeners = json::array();
  for (const auto& q : o.listeners) {
    listeners.push_back(q.path.empty() ? json{{"port", q.port}, {"waiting", q.waiting}, {"limit", q.limit}}
                                       : json{{"path", q.path}, {"waiting", q.waiting}, {"limit", q.limit}});
  }
  json endpoints = json::array();
  for (const auto& g : o.endpoints) endpoints.push_back(endpoint_json(g));
  return {
      {"time_seconds", o.time},
      {"memory",
       {{"rss_anon_bytes", optional_value(o.resident.anon)},
        {"rss_file_bytes", optional_value(o.resident.file)},
        {"rss_shmem_bytes", optional_value(o.resident.shmem)},
        {"rss_bytes", optional_value(o.resident.total)},
        {"socket_receive_queue_bytes", o.receive_queue_bytes},
        {"socket_send_queue_bytes", o.send_queue_bytes}}},
      {"open_fds", optional_value(o.open_fds)},
      {"cgroup", {{"usage_bytes", optional_value(o.memory_usage)}, {"limit_bytes", optional_value(o.memory_limit)}}},
      {"sockets",
       {{"descriptors", o.socket_fds},
        {"unread_bytes", o.unread_bytes},
        {"tcp_connections", o.tcp_connections},
        {"close_wait", o.close_wait},
        {"idle_connections", optional_value(o.idle_connections)},
        {"ingress_bytes_total", o.ingress_bytes_total},
        {"listeners", listeners}}},
      {"endpoints", endpoints},
  };
}

json process_exited_line() { return {{"process_exited", true}}; }

namespace {

// One line, its newline dropped; `whole` says whether it had one. Bounded:
// a file that is no recording (/dev/zero, a binary) must not be read into
// memory as one endless line.
bool next_line(std::istream& in, std::string& line, bool& whole, size_t number) {
  line.clear();
  whole = false;
  for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
    if (c == '\n') {
      whole = true;
      return true;
    }
    if (line.size() == kMaxRecordingLineBytes) {
      throw Error(ErrorKind::usage, fmt::format("line {} is longer than {} bytes: not a leakwatch recording", number,
                                                kMaxRecordingLineBytes));
    }
    line.push_back(static_cast<char>(c));
  }
  return !line.empty();
}

}  // namespace

Recording parse_recording(std::istream& in) {
  Recording recording;
  std::string text;
  size_t number = 0;
  bool have_header = false;
  bool whole = false;
  while (next_line(in, text, whole, number + 1)) {
    ++number;
    if (text.empty()) continue;
    const std::string where = fmt::format("line {}", number);
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      if (!whole && have_header) {
        recording.cut_short =
            fmt::format("line {} is incomplete (the recording was cut short) and was ignored", number);
        break;
      }
      throw Error(ErrorKind::usage, fmt::format("{}: not JSON", where));
    }
    const Fields line(parsed, where);
    if (!have_header) {
      if (!parsed.contains("leakwatch_recording")) {
        throw Error(ErrorKind::usage, "not a leakwatch recording: its first line has no \"leakwatch_recording\"");
      }
      if (line.count("leakwatch_recording") != kRecordingVersion) {
        line.fail("leakwatch_recording", fmt::format("version {} is not one this leakwatch reads (it reads {})",
                                                     parsed["leakwatch_recording"].dump(), kRecordingVersion));
      }
      recording.header = header_from(line);
      have_header = true;
      continue;
    }
    if (recording.process_exited) line.fail("", "a sample after the process exited");
    if (parsed.contains("process_exited")) {
      recording.process_exited = true;
      continue;
    }
    Observation o = observation_from(line);
    if (!recording.samples.empty() && o.time <= recording.samples.back().time) {
      line.fail("time_seconds", "not after the sample before it");
    }
    recording.samples.push_back(std::move(o));
  }
  if (in.bad()) throw Error(ErrorKind::io, "the recording could not be read to its end");
  if (!have_header) throw Error(ErrorKind::usage, "not a leakwatch recording: it is empty");
  return recording;
}

Recording read_recording(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw Error(ErrorKind::usage, fmt::format("'{}' is a directory, not a recording", path));
  }
  std::ifstream in(path);
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("cannot read the recording '{}': {}", path, std::strerror(errno)), errno);
  }
  try {
    return parse_recording(in);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", path, e.what()), e.sys_errno());
  }
}

namespace {

OwnedFd create_recording(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw Error(ErrorKind::io,
                fmt::format("cannot write the recording '{}': {} (choose a writable path for --record)", path,
                            std::strerror(errno)),
                errno);
  }
  return OwnedFd(fd);
}

}  // namespace

RecordingWriter::RecordingWriter(const std::string& path) : path_(path), fd_(create_recording(path)) {}

void RecordingWriter::write_line(const std::string& text) {
  if (failure_) return;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failure_ = n < 0 ? std::strerror(errno) : "nothing was written";
      return;
    }
    done += static_cast<size_t>(n);
  }
  ++lines_;
}

}  // namespace lw
