#include "analyze/finding_text.h"

#include <fmt/format.h>

#include "util/units.h"

namespace lw {
namespace {

// "; seen over the last 52 minutes; memory tracks ingress (r = 0.98); the
// memory limit is reached in about 41 minutes."
std::string subject_context(const Subject& s) {
  std::string text = fmt::format("; seen over the last {}", rough_duration(s.latest.time - s.samples.front().time));
  // On a flat footprint r only measures noise; it is still in the finding.
  const bool memory_grows = s.footprint && s.footprint->slope >= s.config.min_memory_growth_bytes_per_second;
  if (s.ingress_correlation && memory_grows) {
    const double r = *s.ingress_correlation;
    text += fmt::format("; memory {} ingress (r = {:.2f})", r >= 0.7 ? "tracks" : "does not track", r);
  }
  if (s.seconds_to_limit)
    text += fmt::format("; the memory limit is reached in about {}", rough_duration(*s.seconds_to_limit));
  return text + ".";
}

}  // namespace

void describe(Finding& f, const Subject& s, const std::string& observation, std::string_view fix) {
  f.explanation = observation + subject_context(s);
  f.suggested_fix = std::string(fix);
}

std::string quantity(uint64_t n, std::string_view noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

std::string per_minute(double per_second) { return fmt::format("{:.1f} per minute", per_second * 60); }

std::string leading_endpoint(const std::vector<Contributor>& top) {
  if (top.empty()) return "";
  return fmt::format(" (most to {}, {})", top.front().endpoint, top.front().connections);
}

}  // namespace lw
