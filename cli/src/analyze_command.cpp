#include "analyze_command.h"

#include <ostream>

#include <fmt/format.h>

#include "analyze/subject_window.h"
#include "output/recording.h"
#include "output/report_json.h"
#include "util/exit_codes.h"
#include "util/json_text.h"
#include "util/units.h"
#include "watch_view.h"

namespace lw::cli {
namespace {

std::string header_text(const RecordingHeader& h, size_t samples) {
  return fmt::format("Recording of PID {} ({}), started {}: {} samples every {} ({} backend)\nCgroup: {}\n", h.pid,
                     h.command.empty() ? "unknown command" : h.command, h.started_at, samples,
                     human_duration(h.interval_seconds), h.backend, h.cgroup.empty() ? "unknown" : h.cgroup);
}

}  // namespace

int run_analyze(const AnalyzeOptions& options, std::ostream& out, std::ostream& err) {
  const Recording recording = read_recording(options.path);
  if (recording.cut_short) err << "leakwatch: " << options.path << ": " << *recording.cut_short << "\n";
  // The watch's own analysis settings, so the verdict is the one it gave.
  SubjectWindow window(analysis_config(recording.header));
  WatchSeries series;
  for (const auto& o : recording.samples) {
    window.add(o);
    series.add(o);
  }
  const WatchOutcome outcome = outcome_of(window, recording.header.interval_seconds, recording.process_exited);
  if (options.json) {
    nlohmann::ordered_json report{{"schema_version", kInspectSchemaVersion}, {"recording", to_json(recording.header)}};
    report["recording"].erase("leakwatch_recording");
    report["watch"] = watch_json(outcome);
    out << json_text(report, 2) << "\n";
  } else {
    out << header_text(recording.header, recording.samples.size()) << watch_text(outcome, series, recording.header.pid);
  }
  return outcome.findings.empty() ? kExitOk : kExitLeakFound;
}

}  // namespace lw::cli
