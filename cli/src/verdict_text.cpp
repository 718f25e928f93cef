#include "verdict_text.h"

#include <fmt/format.h>

#include "util/units.h"

namespace lw::cli {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string contributor_line(const Contributor& c) {
  std::string line =
      fmt::format("{} ({} connections, {} queued", c.endpoint, c.connections, human_bytes(c.queued_bytes));
  if (c.stalled_seconds) {
    line += fmt::format(", not read for {}", human_duration_ms(static_cast<uint64_t>(*c.stalled_seconds * 1000)));
  }
  return line + ")";
}

std::string finding_text(const Finding& f) {
  std::string out = fmt::format("  {} {} (confidence {:.0f}%)\n", upper(to_string(f.severity)), to_string(f.kind),
                                100 * f.confidence);
  out += fmt::format("    {}\n", f.explanation);
  if (!f.top_contributors.empty()) {
    out += "    Where: " + contributor_line(f.top_contributors.front()) + "\n";
    for (size_t i = 1; i < f.top_contributors.size(); ++i) {
      out += "           " + contributor_line(f.top_contributors[i]) + "\n";
    }
  }
  out += fmt::format("    Fix: {}\n", f.suggested_fix);
  return out;
}

}  // namespace

std::string render_verdict(const std::vector<Finding>& findings, double watched_seconds, size_t samples) {
  const std::string over =
      fmt::format("{} ({} samples)", human_duration_ms(static_cast<uint64_t>(watched_seconds * 1000)), samples);
  if (findings.empty()) return fmt::format("\nVerdict: no leak found over {}.\n", over);
  std::string out =
      fmt::format("\nVerdict over {}: {} finding{}\n", over, findings.size(), findings.size() > 1 ? "s" : "");
  for (const auto& f : findings) out += finding_text(f);
  return out;
}

}  // namespace lw::cli
