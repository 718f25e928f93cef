// What a subject's whole window says, shared by every finding kind: its
// footprint's trend, how that tracks ingress, when it reaches the memory
// limit; and the steps every finding is built with.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "analyze/analysis_config.h"
#include "analyze/finding.h"
#include "analyze/trend.h"
#include "model/observation.h"

namespace lw {

// What a worker process showed over its life, which its cgroup's window
// keeps once it exits: a restart resets the worker, not its leak.
struct WorkerLife {
  double lived_seconds = 0;
  size_t samples = 0;
  std::optional<Trend> anon;  // anonymous memory over its life
};

struct Subject {
  const AnalysisConfig& config;
  // The window's samples; in a longer window, each a slice's mean.
  const std::deque<Observation>& samples;
  // The highest of each number in each of the next longer window's points
  // (nullptr: none): what level a quantity already held before these
  // samples began.
  const std::deque<Observation>* longer;
  // A cgroup's members that exited, oldest first (none for a process).
  const std::deque<WorkerLife>& workers;
  const Observation& latest;  // the latest sample as it came
  std::optional<Trend> footprint;
  std::optional<double> latest_footprint;
  std::optional<double> ingress_correlation;
  std::optional<double> seconds_to_limit;
};

// samples not empty.
Subject describe_subject(const AnalysisConfig& config, const std::deque<Observation>& samples,
                         const Observation& latest, const std::deque<Observation>* longer,
                         const std::deque<WorkerLife>& workers);

// The highest `value` of the longer window's samples from before this
// window's first: a level the subject already held.
std::optional<double> earlier_peak(const Subject& s, const Accessor& value);

// value's trend over the window, told its earlier peak.
std::optional<Trend> trend_of(const Subject& s, const Accessor& value);

// The trend of the memory open connections hold (their queues), per second.
double queue_slope(const Subject& s);

// How sure a growth verdict is: steadier, steeper (against the threshold)
// and longer-observed trends earn more.
double growth_confidence(const Trend& trend, double min_rate, const Subject& s);

// A finding with its share of the footprint's growth (`memory_slope` is the
// part it holds) and its severity; the caller adds contributors and text.
Finding make_finding(FindingKind kind, const Subject& s, double growth, double memory_slope, double confidence);

enum class RankBy { queued_bytes, count };
using EndpointCount = std::function<uint64_t(const EndpointGroup&)>;

// The latest sample's endpoints, largest first by what the finding is about.
std::vector<Contributor> top_contributors(const std::vector<EndpointGroup>& endpoints, const EndpointCount& count,
                                          const EndpointCount& queued, RankBy rank_by);

uint64_t connections(const EndpointGroup& e);
uint64_t close_waits(const EndpointGroup& e);
uint64_t receive_queue(const EndpointGroup& e);
uint64_t send_queue(const EndpointGroup& e);
uint64_t queues(const EndpointGroup& e);

}  // namespace lw
