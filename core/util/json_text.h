// JSON as text, for values holding strings from outside: a process names
// itself (prctl(PR_SET_NAME) takes any bytes), cgroups take any name. Bytes
// that are not UTF-8 become U+FFFD instead of an exception: a process must
// not be able to crash the agent or a report by its name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lw {

template <typename Json>
std::string json_text(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lw
