// Findings as a person reads them after `inspect --watch`.
#pragma once

#include <string>
#include <vector>

#include "analyze/finding.h"

namespace lw::cli {

std::string render_verdict(const std::vector<Finding>& findings, double watched_seconds, size_t samples);

}  // namespace lw::cli
