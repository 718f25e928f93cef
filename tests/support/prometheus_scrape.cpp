#include "prometheus_scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace lw::test {

std::vector<PromSample> Scrape::find(const std::string& name, const std::map<std::string, std::string>& match) const {
  std::vector<PromSample> out;
  for (const auto& s : samples_) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : match) {
      const auto it = s.labels.find(k);
      all = all && it != s.labels.end() && it->second == v;
    }
    if (all) out.push_back(s);
  }
  return out;
}

std::optional<double> Scrape::value(const std::string& name, const std::map<std::string, std::string>& match) const {
  const auto found = find(name, match);
  if (found.size() != 1) return std::nullopt;
  return found[0].value;
}

std::string http_get(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    throw std::runtime_error("cannot send the HTTP request");
  }
  std::string response;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  const auto body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") == std::string::npos || body == std::string::npos) {
    throw std::runtime_error("bad HTTP response: " + response.substr(0, 200));
  }
  return response.substr(body + 4);
}

std::vector<PromSample> parse_prometheus_text(const std::string& text) {
  std::vector<PromSample> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    PromSample s;
    size_t pos = line.find_first_of("{ ");
    s.name = line.substr(0, pos);
    if (pos != std::string::npos && line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        const size_t eq = line.find('=', pos);
        const std::string key = line.substr(pos, eq - pos);
        std::string value;
        size_t i = eq + 2;  // past ="
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i];
        }
        s.labels[key] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      pos = line.find(' ', pos);
    }
    s.value = std::stod(line.substr(pos + 1));
    samples.push_back(std::move(s));
  }
  return samples;
}

Scrape scrape(uint16_t port) { return Scrape(parse_prometheus_text(http_get(port, "/metrics"))); }

}  // namespace lw::test
