#include "alert_targets.h"

#include <crypt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lw::test {
namespace {

using namespace std::chrono_literals;

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "leakwatch-alertmanager-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// What Alertmanager's basic_auth_users wants: a bcrypt hash, made with
// libcrypt (libxcrypt's $2b$) so no tool beyond libc is needed.
std::string bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 5, nullptr, 0, salt, sizeof(salt)) == nullptr) {
    throw std::runtime_error("libcrypt cannot make a bcrypt salt");
  }
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  if (hash == nullptr || hash[0] != '$') throw std::runtime_error("libcrypt cannot hash with bcrypt");
  return hash;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<nlohmann::json> leak_alert(const nlohmann::json& alerts, pid_t pid, const std::string& kind) {
  for (const auto& a : alerts) {
    if (a["labels"]["alertname"] == "LeakwatchLeakSuspected" && a["labels"]["pid"] == std::to_string(pid) &&
        a["labels"]["kind"] == kind) {
      return a;
    }
  }
  return std::nullopt;
}

uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string run_tool(const std::vector<std::string>& argv) {
  ChildProcess tool(argv, /*merge_stderr=*/true);
  tool.keep_draining();
  const int status = tool.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(argv[0] + " failed (status " + std::to_string(status) + "): " + tool.drained_output());
  }
  return tool.drained_output();
}

Alertmanager::Alertmanager(Options options)
    : options_(std::move(options)),
      dir_(make_temp_dir()),
      port_(options_.port != 0 ? options_.port : free_loopback_port()) {
  const auto config = dir_ / "alertmanager.yml";
  std::ofstream(config) << "route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n";
  std::vector<std::string> argv{"prometheus-alertmanager", "--config.file=" + config.string(),
                                "--storage.path=" + dir_.string(),
                                "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--cluster.listen-address="};
  if (options_.tls || !options_.username.empty()) {
    write_web_config();
    argv.push_back("--web.config.file=" + (dir_ / "web.yml").string());
  }
  process_ = std::make_unique<ChildProcess>(argv, /*merge_stderr=*/true);
  process_->keep_draining();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    try {
      get("/-/ready");
      break;
    } catch (const std::exception&) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("Alertmanager did not start: " + process_->drained_output());
      }
      std::this_thread::sleep_for(100ms);
    }
  }
}

Alertmanager::~Alertmanager() {
  process_.reset();  // killed by its PID and reaped
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void Alertmanager::write_web_config() const {
  std::ofstream web(dir_ / "web.yml");
  if (options_.tls) {
    run_tool({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", (dir_ / "key.pem").string(), "-out", ca_file(), "-days", "2", "-subj", "/CN=127.0.0.1",
              "-addext", "subjectAltName=IP:127.0.0.1"});
    web << "tls_server_config:\n  cert_file: " << ca_file() << "\n  key_file: " << (dir_ / "key.pem").string() << "\n";
  }
  if (!options_.username.empty()) {
    web << "basic_auth_users:\n  " << options_.username << ": '" << bcrypt(options_.password) << "'\n";
  }
}

std::string Alertmanager::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string Alertmanager::get(const std::string& path) const {
  const auto out = dir_ / "answer.json";
  std::vector<std::string> argv{"curl",       "--silent", "--show-error", "--fail",
                                "--max-time", "10",       "--output",     out.string()};
  if (options_.tls) argv.insert(argv.end(), {"--cacert", ca_file()});
  if (!options_.username.empty()) argv.insert(argv.end(), {"--user", options_.username + ":" + options_.password});
  argv.push_back(url() + path);
  run_tool(argv);
  return read_file(out);
}

nlohmann::json Alertmanager::active_alerts() const {
  return nlohmann::json::parse(get("/api/v2/alerts?active=true&silenced=false&inhibited=false"));
}

LoopbackListener::LoopbackListener(std::function<void(int fd)> serve) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener_, 64) != 0 || getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listener_ >= 0) close(listener_);
    throw std::runtime_error("cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this, serve = std::move(serve)] {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 50) != 1) continue;
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) serve(fd);
    }
  });
}

void LoopbackListener::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) close(listener_);
  listener_ = -1;
}

SilentServer::SilentServer()
    : listener_([this](int fd) {
        held_.push_back(fd);
        accepted_++;
      }) {}

SilentServer::~SilentServer() {
  listener_.stop();
  for (const int fd : held_) close(fd);
}

namespace {

// Reads from fd until `done` says the text is whole, the peer closes, or
// nothing arrives for 5 s (a test's client never takes that long).
template <typename Done>
bool read_until(int fd, std::string& text, Done done) {
  char chunk[4096];
  while (!done(text)) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return false;
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    text.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

bool same_name(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](char x, char y) { return lower(x) == lower(y); });
}

// One request read from fd (headers, then a Content-Length body); nullopt
// when it did not arrive whole.
std::optional<HttpRequest> read_request(int fd) {
  std::string text;
  if (!read_until(fd, text, [](const std::string& t) { return t.find("\r\n\r\n") != std::string::npos; })) {
    return std::nullopt;
  }
  const size_t body_start = text.find("\r\n\r\n") + 4;
  HttpRequest request;
  std::istringstream head(text.substr(0, body_start - 4));
  const auto without_cr = [](std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  };
  std::getline(head, request.request_line);
  request.request_line = without_cr(request.request_line);
  size_t content_length = 0;
  for (std::string line; std::getline(head, line);) {
    line = without_cr(line);
    request.headers.push_back(line);
    const auto colon = line.find(':');
    if (colon != std::string::npos && same_name(line.substr(0, colon), "Content-Length")) {
      content_length = std::stoul(line.substr(colon + 1));
    }
  }
  request.body = text.substr(body_start);
  if (!read_until(fd, request.body, [&](const std::string& b) { return b.size() >= content_length; })) {
    return std::nullopt;
  }
  return request;
}

}  // namespace

std::vector<std::string> HttpRequest::header_lines(const std::string& name) const {
  std::vector<std::string> lines;
  for (const auto& line : headers) {
    if (line.size() > name.size() && line[name.size()] == ':' && same_name(line.substr(0, name.size()), name)) {
      lines.push_back(line);
    }
  }
  return lines;
}

RecordingServer::RecordingServer()
    : listener_([this](int fd) {
        if (auto request = read_request(fd)) {
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(std::move(*request));
          }
          constexpr std::string_view kAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          static_cast<void>(write(fd, kAnswer.data(), kAnswer.size()));
        }
        close(fd);
      }) {}

std::vector<HttpRequest> RecordingServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace lw::test
