// The table of finding kinds: each kind's name and its detector, one file
// per kind in analyze/kinds/. A new kind is a new file and a row here.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "analyze/finding.h"
#include "analyze/subject.h"

namespace lw {

struct FindingKindInfo {
  FindingKind kind;
  std::string_view name;  // in metrics, JSON and alerts
  std::optional<Finding> (*detect)(const Subject&);
};

// Every kind, in the order SubjectWindow runs their detectors.
std::span<const FindingKindInfo> finding_kinds();

// The detectors, one per file in analyze/kinds/.
std::optional<Finding> detect_receive_backlog(const Subject& s);
std::optional<Finding> detect_send_backlog(const Subject& s);
std::optional<Finding> detect_connection_leak(const Subject& s);
std::optional<Finding> detect_close_wait_leak(const Subject& s);
std::optional<Finding> detect_heap_growth(const Subject& s);
std::optional<Finding> detect_fd_leak(const Subject& s);
std::optional<Finding> detect_listen_backlog(const Subject& s);

}  // namespace lw
