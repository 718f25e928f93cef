// A temporary directory tree for tests that build a fake host (/proc,
// /sys/fs/cgroup) file by file. Removed with everything in it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lw::test {

inline void write_file(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << contents;
}

// What the kubelet writes under its log root (the host's /var/log) when it
// starts a container: the pod's log directory and the container's log
// symlink, absolute as on a host (so from a test it dangles; only its text
// is read).
inline void add_kubelet_container_log(const std::filesystem::path& log_root, std::string_view ns, std::string_view pod,
                                      std::string_view uid, std::string_view container, std::string_view container_id) {
  const std::string pod_dir = std::string(ns) + "_" + std::string(pod) + "_" + std::string(uid);
  write_file(log_root / "pods" / pod_dir / container / "0.log", "log line\n");
  std::filesystem::create_directories(log_root / "containers");
  const std::string link = std::string(pod) + "_" + std::string(ns) + "_" + std::string(container) + "-" +
                           std::string(container_id) + ".log";
  std::filesystem::create_symlink(std::filesystem::path("/var/log/pods") / pod_dir / container / "0.log",
                                  log_root / "containers" / link);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "leakwatch-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace lw::test
