// JSON form of the inspect report, exact bytes everywhere. The schema is
// documented in docs/inspect-json.md; bump kInspectSchemaVersion on change.
#pragma once

#include <nlohmann/json.hpp>

#include "analyze/finding.h"
#include "collect/process_inspector.h"

namespace lw {

inline constexpr int kInspectSchemaVersion = 1;

nlohmann::ordered_json to_json(const ProcessReport& report);
nlohmann::ordered_json to_json(const EndpointGroup& group);
nlohmann::ordered_json to_json(const SocketRecord& record);
nlohmann::ordered_json to_json(const Finding& finding);

}  // namespace lw
