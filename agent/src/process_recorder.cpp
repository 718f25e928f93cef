#include "process_recorder.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "collect/procfs.h"
#include "util/error.h"
#include "util/log.h"

namespace lw {
namespace {

// COMM-PID-STARTTIME.jsonl; when an earlier run of the agent (restarted
// while the process lived) left that file, COMM-PID-STARTTIME.N.jsonl with
// the first free N from 2: its recording is kept, not overwritten.
std::filesystem::path unused_path(const std::filesystem::path& directory, const ProcessSample& p) {
  std::string comm = p.comm;
  for (char& c : comm) {
    if (c == '/' || c == ' ' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  const std::string stem = fmt::format("{}-{}-{}", comm.empty() ? "unknown" : comm, p.key.pid, p.key.start_time);
  std::error_code error;
  auto path = directory / (stem + ".jsonl");
  for (int n = 2; std::filesystem::exists(path, error); ++n) path = directory / fmt::format("{}.{}.jsonl", stem, n);
  return path;
}

// What the recordings already in the directory hold, so the bound covers
// the agent's restarts too.
uint64_t recording_bytes_in(const std::string& directory) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (!entry.is_regular_file(error) || entry.path().extension() != ".jsonl") continue;
    const auto size = entry.file_size(error);
    if (!error) total += size;
  }
  return total;
}

}  // namespace

void prepare_recording_dir(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || ::access(directory.c_str(), W_OK | X_OK) != 0) {
    const std::string why = error ? error.message() : std::strerror(errno);
    throw Error(ErrorKind::io,
                fmt::format("cannot write recordings in '{}': {} (choose a writable --record-dir)", directory, why));
  }
}

ProcessRecorder::ProcessRecorder(RecorderOptions options) : options_(std::move(options)) {
  prepare_recording_dir(options_.directory);
  bytes_ = recording_bytes_in(options_.directory);
}

ProcessRecorder::OpenRecording ProcessRecorder::open(const ProcessSample& p, double now) {
  OpenRecording r{RecordingWriter(unused_path(options_.directory, p).string()), now};
  write(r, to_json(RecordingHeader{
               .pid = p.key.pid,
               .command = p.comm,
               .start_time_ticks = p.key.start_time,
               .cgroup = p.cgroup,
               .interval_seconds = options_.interval_seconds,
               .window_seconds = options_.analysis.window_seconds,
               .longer_windows_seconds = options_.analysis.longer_windows_seconds,
               .stall_after_seconds = options_.analysis.stall_after_seconds,
               .started_at =
                   fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())),
               .backend = options_.backend,
           }));
  return r;
}

void ProcessRecorder::write(OpenRecording& r, const nlohmann::ordered_json& line) {
  if (r.failed) {
    ++counters_->lines_failed;
    return;
  }
  const std::string text = json_text(line) + "\n";
  const size_t size = text.size();
  if (bytes_ + size > options_.max_bytes) {
    ++counters_->lines_over_limit;
    return;
  }
  r.writer.write_line(text);
  if (const auto& failure = r.writer.failure()) {
    log::warn("recording {} stopped: {}", r.writer.path(), *failure);
    r.failed = true;
    ++counters_->lines_failed;
    return;
  }
  bytes_ += size;
  ++counters_->lines_written;
  counters_->bytes_written += size;
}

void ProcessRecorder::record(const NodeSample& sample, double now) {
  std::set<ProcessKey> present;
  for (const auto& p : sample.processes) {
    present.insert(p.key);
    if (unopenable_.contains(p.key)) {
      ++counters_->lines_failed;
      continue;
    }
    auto it = open_.find(p.key);
    if (it == open_.end()) {
      if (bytes_ >= options_.max_bytes) {
        ++counters_->lines_over_limit;
        continue;
      }
      try {
        it = open_.emplace(p.key, open(p, now)).first;
      } catch (const Error& e) {
        log::warn("{}", e.what());
        unopenable_.insert(p.key);
        ++counters_->lines_failed;
        continue;
      }
    }
    const auto cgroup = sample.cgroups.find(p.cgroup);
    Observation o = observe_process(p, cgroup == sample.cgroups.end() ? nullptr : &cgroup->second, now);
    o.time = now - it->second.started;
    write(it->second, to_json(o));
  }
  std::erase_if(unopenable_, [&](const ProcessKey& key) { return !present.contains(key); });
  for (auto it = open_.begin(); it != open_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    // Gone, its PID reused, or a zombie: it exited.
    const auto stat = read_stat(options_.paths, it->first.pid);
    if (!stat || stat->start_time != it->first.start_time || stat->state == 'Z' || stat->state == 'X') {
      write(it->second, process_exited_line());
    }
    it = open_.erase(it);
  }
}

}  // namespace lw
