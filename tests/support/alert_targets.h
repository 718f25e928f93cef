// Where a test's agent posts alerts, all on loopback: the real Alertmanager
// from Debian's prometheus-alertmanager (optionally over HTTPS with a
// self-signed certificate made at test time, and basic auth), a server
// that accepts connections and never answers, and one that answers every
// request 200 and keeps its headers.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"

namespace lw::test {

// The LeakwatchLeakSuspected alert about this PID and finding kind among
// Alertmanager's alerts.
std::optional<nlohmann::json> leak_alert(const nlohmann::json& alerts, pid_t pid, const std::string& kind);

// A loopback port that was free a moment ago.
uint16_t free_loopback_port();

// Runs a command to its end; throws std::runtime_error with its output when
// it does not exit 0. Returns what it printed (stdout and stderr).
std::string run_tool(const std::vector<std::string>& argv);

class Alertmanager {
 public:
  struct Options {
    bool tls = false;      // HTTPS with a self-signed certificate for 127.0.0.1
    std::string username;  // basic auth required when set (bcrypt hash in the web config)
    std::string password;
    uint16_t port = 0;  // 0: a free one; a fixed port lets a test start it again at the same URL
  };
  Alertmanager() : Alertmanager(Options{}) {}
  explicit Alertmanager(Options options);
  ~Alertmanager();
  Alertmanager(const Alertmanager&) = delete;
  Alertmanager& operator=(const Alertmanager&) = delete;

  std::string url() const;
  // The certificate it serves, which is its own CA (with tls).
  std::string ca_file() const { return (dir_ / "cert.pem").string(); }
  const std::filesystem::path& dir() const { return dir_; }
  // The alerts Alertmanager holds as active (firing, not resolved), asked
  // over the same TLS and basic auth as the agent uses.
  nlohmann::json active_alerts() const;

 private:
  // GET path through the curl command line tool; throws when it fails.
  std::string get(const std::string& path) const;
  void write_web_config() const;

  Options options_;
  std::filesystem::path dir_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// A TCP listener on 127.0.0.1 (only loopback) at a free port whose thread
// hands every connection it accepts, and the fd with it, to serve.
class LoopbackListener {
 public:
  explicit LoopbackListener(std::function<void(int fd)> serve);
  ~LoopbackListener() { stop(); }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Ends the accepting thread; serve is not called afterwards. Idempotent.
  void stop();

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Listens on loopback and accepts every connection, then never reads or
// answers: the worst an alert target can do.
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  std::string url() const { return listener_.url(); }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  std::atomic<int> accepted_{0};
  std::vector<int> held_;      // accepting thread only
  LoopbackListener listener_;  // last: its thread uses the members above
};

// One HTTP request as it arrived.
struct HttpRequest {
  std::string request_line;          // "POST /api/v2/alerts HTTP/1.1"
  std::vector<std::string> headers;  // "Name: value" lines, as sent, without CRLF
  std::string body;
  // The header lines with this name (any case), whole, as sent.
  std::vector<std::string> header_lines(const std::string& name) const;
};

// Answers every HTTP/1.1 request on loopback with 200 and an empty body,
// and keeps what was sent: for what no real server shows, such as the exact
// Authorization header (Alertmanager cannot check a bearer token).
class RecordingServer {
 public:
  RecordingServer();
  ~RecordingServer() { listener_.stop(); }
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;
  std::string url() const { return listener_.url(); }
  // The requests answered so far, in order.
  std::vector<HttpRequest> requests() const;

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;  // guarded by mutex_
  LoopbackListener listener_;          // last: its thread uses the members above
};

}  // namespace lw::test
