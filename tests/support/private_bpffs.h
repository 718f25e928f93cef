// A BPF filesystem of the caller's own, in a fresh directory, unmounted and
// removed at the end: tests and benchmarks pin programs there without
// touching the host's /sys/fs/bpf.
#pragma once

#include <filesystem>

namespace lw::test {

class PrivateBpfFs {
 public:
  PrivateBpfFs();
  ~PrivateBpfFs();
  PrivateBpfFs(const PrivateBpfFs&) = delete;
  PrivateBpfFs& operator=(const PrivateBpfFs&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace lw::test
