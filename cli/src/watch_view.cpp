#include "watch_view.h"

#include <algorithm>

#include <fmt/format.h>

#include "output/report_json.h"
#include "terminal_chart.h"
#include "verdict_text.h"

namespace lw::cli {

void WatchSeries::add(const Observation& o) {
  anon_.push_back(o.resident.anon.value_or(0));
  file_shmem_.push_back(o.resident.file.value_or(0) + o.resident.shmem.value_or(0));
  receive_.push_back(o.receive_queue_bytes);
  send_.push_back(o.send_queue_bytes);
  const double dt = o.time - last_time_;
  ingress_rate_.push_back(anon_.size() > 1 && dt > 0 ? std::max(0.0, o.ingress_bytes_total - last_ingress_) / dt : 0);
  last_time_ = o.time;
  last_ingress_ = o.ingress_bytes_total;
}

std::string WatchSeries::chart() const {
  return render_chart({{"anon", anon_, "bytes"},
                       {"file+shmem", file_shmem_, "bytes"},
                       {"recv queues", receive_, "bytes"},
                       {"send queues", send_, "bytes"}},
                      {{"ingress", ingress_rate_, "bytes/s"}});
}

WatchOutcome outcome_of(const SubjectWindow& window, double interval_seconds, bool process_exited) {
  return {.findings = window.findings(),
          .watched_seconds = window.span_seconds(),
          .samples = window.samples(),
          .interval_seconds = interval_seconds,
          .process_exited = process_exited};
}

nlohmann::ordered_json watch_json(const WatchOutcome& outcome) {
  nlohmann::ordered_json found = nlohmann::ordered_json::array();
  for (const auto& f : outcome.findings) found.push_back(to_json(f));
  return {{"seconds", outcome.watched_seconds},
          {"samples", outcome.samples},
          {"interval_seconds", outcome.interval_seconds},
          {"process_exited", outcome.process_exited},
          {"findings", found}};
}

std::string watch_text(const WatchOutcome& outcome, const WatchSeries& series, pid_t pid) {
  std::string text = "\nFootprint against ingress over the watch\n" + series.chart() +
                     render_verdict(outcome.findings, outcome.watched_seconds, outcome.samples);
  if (outcome.process_exited) {
    text += fmt::format("PID {} exited during the watch; the verdict covers what was seen.\n", pid);
  }
  return text;
}

}  // namespace lw::cli
