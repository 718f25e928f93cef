#include "analyze/finding_kinds.h"

#include <array>

namespace lw {
namespace {

constexpr std::array<FindingKindInfo, 7> kKinds{{
    {FindingKind::socket_receive_backlog, "socket-receive-backlog", detect_receive_backlog},
    {FindingKind::socket_send_backlog, "socket-send-backlog", detect_send_backlog},
    {FindingKind::connection_leak, "connection-leak", detect_connection_leak},
    {FindingKind::close_wait_leak, "close-wait-leak", detect_close_wait_leak},
    {FindingKind::heap_growth, "heap-growth", detect_heap_growth},
    {FindingKind::fd_leak, "fd-leak", detect_fd_leak},
    {FindingKind::listen_backlog, "listen-backlog", detect_listen_backlog},
}};

}  // namespace

std::span<const FindingKindInfo> finding_kinds() { return kKinds; }

std::string_view to_string(FindingKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "unknown";
}

}  // namespace lw
