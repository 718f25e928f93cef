// `leakwatch analyze FILE`: a recording of `inspect --watch --record` read
// back through the same analysis, for the same chart and verdict.
#pragma once

#include <iosfwd>
#include <string>

namespace lw::cli {

struct AnalyzeOptions {
  std::string path;
  bool json = false;
};

// Returns kExitOk or kExitLeakFound; throws lw::Error (usage for a file
// that is not a valid recording, io for one that cannot be read).
int run_analyze(const AnalyzeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace lw::cli
