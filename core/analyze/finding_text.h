// The English of findings: one plain sentence of what was seen, with the
// window's context, and one of what to do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/finding.h"
#include "analyze/subject.h"

namespace lw {

// Sets f's explanation (`observation` plus the subject's context) and fix.
void describe(Finding& f, const Subject& s, const std::string& observation, std::string_view fix);

// "1 connection", "12 connections".
std::string quantity(uint64_t n, std::string_view noun);
// "1.5 per minute".
std::string per_minute(double per_second);
// " (most to 10.2.0.7:8000, 12)", or "" without contributors.
std::string leading_endpoint(const std::vector<Contributor>& top);

}  // namespace lw
