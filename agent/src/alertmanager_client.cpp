#include "alertmanager_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "util/log.h"
#include "util/owned_fd.h"

namespace lw {
namespace {

constexpr int kTimeoutMs = 3000;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(t));
}

std::string summary(const ActiveFinding& f, std::string_view kind) {
  const std::string where = f.pod.pod.empty() ? "" : fmt::format(" of pod {}/{}", f.pod.namespace_, f.pod.pod);
  return f.process ? fmt::format("{} in {} (PID {}){}", kind, f.comm, f.process->pid, where)
                   : fmt::format("{} in cgroup {}{}", kind, f.cgroup, where);
}

nlohmann::json alert(const ActiveFinding& f, const std::string& node, std::chrono::system_clock::time_point ends) {
  const std::string kind(to_string(f.finding.kind));
  nlohmann::json labels{{"alertname", "LeakwatchLeakSuspected"},
                        {"kind", kind},
                        {"severity", std::string(to_string(f.finding.severity))},
                        {"pid", f.process ? std::to_string(f.process->pid) : ""},
                        {"comm", f.comm},
                        {"cgroup", f.cgroup},
                        {"node", node}};
  for (const auto& [name, value] : pod_labels(f.pod)) labels[name] = value;
  return {
      {"labels", std::move(labels)},
      {"annotations",
       {{"summary", summary(f, kind)},
        {"description", f.finding.explanation},
        {"fix", f.finding.suggested_fix}}},
      {"endsAt", rfc3339(ends)},
  };
}

bool wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, kTimeoutMs) == 1 && (p.revents & events) != 0;
}

// One HTTP/1.1 request with Connection: close; returns the status code.
int http_post(const std::string& host, const std::string& port, const std::string& path, const std::string& body) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  const int raw = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) throw std::runtime_error(fmt::format("cannot open a socket to {}:{}: {}", host, port, std::strerror(errno)));
  const OwnedFd s(raw);
  if (connect(s.get(), found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    throw std::runtime_error(fmt::format("cannot connect to {}:{}: {}", host, port, std::strerror(errno)));
  }
  int error = 0;
  socklen_t len = sizeof(error);
  if (!wait_for(s.get(), POLLOUT) || getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    throw std::runtime_error(fmt::format("cannot connect to {}:{}: {}", host, port,
                                         error ? std::strerror(error) : "timed out"));
  }
  const std::string request = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      path, host, port, body.size(), body);
  for (size_t sent = 0; sent < request.size();) {
    if (!wait_for(s.get(), POLLOUT)) throw std::runtime_error("timed out sending alerts");
    const ssize_t n = send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) throw std::runtime_error(fmt::format("sending alerts: {}", std::strerror(errno)));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[512];
  while (response.find("\r\n") == std::string::npos) {
    if (!wait_for(s.get(), POLLIN)) throw std::runtime_error("timed out waiting for Alertmanager's answer");
    const ssize_t n = recv(s.get(), buf, sizeof(buf), 0);
    if (n <= 0) throw std::runtime_error("Alertmanager closed the connection without answering");
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  const auto space = response.find(' ');
  return space == std::string::npos ? 0 : std::atoi(response.c_str() + space + 1);
}

}  // namespace

nlohmann::json alerts_body(const std::vector<ActiveFinding>& active, const std::vector<FindingChange>& changes,
                           const std::string& node, std::chrono::system_clock::time_point now,
                           std::chrono::seconds valid_for) {
  nlohmann::json body = nlohmann::json::array();
  for (const auto& f : active) body.push_back(alert(f, node, now + valid_for));
  for (const auto& c : changes) {
    if (!c.started) body.push_back(alert(c.finding, node, now));
  }
  return body;
}

AlertmanagerClient::AlertmanagerClient(std::string url, std::string node) : node_(std::move(node)) {
  const std::string address = url.substr(url.find("://") + 3);
  const auto colon = address.rfind(':');
  host_ = colon == std::string::npos ? address : address.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : address.substr(colon + 1);
}

void AlertmanagerClient::post(const std::vector<ActiveFinding>& active, const std::vector<FindingChange>& changes,
                              std::chrono::seconds valid_for) {
  const auto body = alerts_body(active, changes, node_, std::chrono::system_clock::now(), valid_for);
  if (body.empty()) return;
  try {
    const int status = http_post(host_, port_, "/api/v2/alerts", body.dump());
    if (status < 200 || status >= 300) throw std::runtime_error(fmt::format("Alertmanager answered {}", status));
    delivery_.posts_ok++;
  } catch (const std::exception& e) {
    delivery_.posts_failed++;
    log::warn("posting {} alerts to {}:{} failed: {}", body.size(), host_, port_, e.what());
  }
}

}  // namespace lw
