// The agent's recordings (--record-dir): each targeted process's samples,
// as `inspect --watch --record` writes them (docs/recording.md), one file
// per process, so `leakwatch analyze FILE` replays what the agent's window
// saw. Bounded: all files together, those earlier runs of the agent left
// in the directory included, stop growing at max_bytes, and every line not
// written is counted, by why.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "collect/host_paths.h"
#include "model/node_sample.h"
#include "model/observation.h"
#include "output/recording.h"

namespace lw {

struct RecorderOptions {
  std::string directory;
  uint64_t max_bytes = 0;
  double interval_seconds = 0;
  AnalysisConfig analysis;  // the agent's, so a replay judges as it did
  std::string backend;
  HostPaths paths;  // to tell a process that exited from one no longer targeted
};

// Read at scrape time from another thread.
struct RecordingCounters {
  std::atomic<uint64_t> lines_written{0}, bytes_written{0}, lines_over_limit{0}, lines_failed{0};
};

// Creates the directory when missing; lw::Error(io) when it cannot be
// written. The agent checks this at start, before loading anything.
void prepare_recording_dir(const std::string& directory);

class ProcessRecorder {
 public:
  // prepare_recording_dir(options.directory) first.
  explicit ProcessRecorder(RecorderOptions options);
  // One round at `now` (seconds, monotonic, as the detector got it): a
  // sample line per process, a file opened for each new one and closed for
  // each that is gone: with a process_exited line when it exited, without
  // when it lives on but is no longer a target (an exec() that changed the
  // name --comm matched).
  void record(const NodeSample& sample, double now);
  std::shared_ptr<const RecordingCounters> counters() const { return counters_; }

 private:
  struct OpenRecording {
    RecordingWriter writer;
    double started = 0;  // `now` of its first sample: times in the file count from there
    bool failed = false;
  };
  void write(OpenRecording& r, const nlohmann::ordered_json& line);
  OpenRecording open(const ProcessSample& p, double now);

  RecorderOptions options_;
  std::map<ProcessKey, OpenRecording> open_;
  std::set<ProcessKey> unopenable_;  // its file could not be created: said once, its lines counted
  uint64_t bytes_ = 0;               // of every recording in the directory
  std::shared_ptr<RecordingCounters> counters_ = std::make_shared<RecordingCounters>();
};

}  // namespace lw
