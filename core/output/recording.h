// A watch written down, to be analyzed again later or elsewhere
// (`inspect --watch --record FILE`, `leakwatch analyze FILE`): JSON lines,
// a header first, then exactly what the analysis saw of each sample, so a
// replay gives the same findings. Schema: docs/recording.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/analysis_config.h"
#include "model/observation.h"
#include "util/json_text.h"
#include "util/owned_fd.h"

namespace lw {

inline constexpr int kRecordingVersion = 1;
// A sample line is a few KiB: its endpoints are the --top ones only, about
// 300 bytes each, so even --top 100000 stays under this.
inline constexpr size_t kMaxRecordingLineBytes = 64 << 20;

// Who was watched and how: what a replay needs besides the samples.
struct RecordingHeader {
  pid_t pid = 0;
  std::string command;
  uint64_t start_time_ticks = 0;
  std::string cgroup;
  double interval_seconds = 0;
  double window_seconds = 0;                   // the shortest analysis window of the watch
  std::vector<double> longer_windows_seconds;  // the longer ones
  double stall_after_seconds = 0;              // the stall rule the samples' endpoints were judged by
  std::string started_at;                      // UTC, RFC 3339
  std::string backend;                         // "bpf" or "netlink"
};

// The analysis settings a replay uses: the watch's own.
AnalysisConfig analysis_config(const RecordingHeader& header);

nlohmann::ordered_json to_json(const RecordingHeader& header);
nlohmann::ordered_json to_json(const Observation& sample);
// The last line of a recording whose process exited during the watch.
nlohmann::ordered_json process_exited_line();

struct Recording {
  RecordingHeader header;
  std::vector<Observation> samples;
  bool process_exited = false;
  // A last line without its newline that does not parse: the writer was
  // cut short (killed, disk full). Ignored, and said.
  std::optional<std::string> cut_short;
};

// Parses a whole recording. Throws lw::Error(usage) naming the line and the
// field that is wrong; never anything else.
Recording parse_recording(std::istream& in);
// The same from a file: lw::Error(io) when it cannot be read.
Recording read_recording(const std::string& path);

// Writes a recording line by line, each with one write(2), so whatever
// stops the watch leaves whole lines. The first failure (a full disk, an
// I/O error) stops the recording and is kept, not thrown: the watch goes
// on and says so at the end.
class RecordingWriter {
 public:
  // lw::Error(io) when the file cannot be created.
  explicit RecordingWriter(const std::string& path);
  void write(const nlohmann::ordered_json& line) { write_line(json_text(line) + "\n"); }
  // One line, its newline included.
  void write_line(const std::string& text);
  const std::string& path() const { return path_; }
  size_t lines_written() const { return lines_; }
  // Why writing stopped; nullopt while it works.
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  std::string path_;
  OwnedFd fd_;
  size_t lines_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace lw
