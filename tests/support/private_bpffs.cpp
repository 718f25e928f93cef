#include "private_bpffs.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace lw::test {

PrivateBpfFs::PrivateBpfFs() {
  std::string pattern = (std::filesystem::temp_directory_path() / "leakwatch-bpffs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  if (::mount("bpf", path_.c_str(), "bpf", 0, nullptr) != 0) {
    const std::string why = std::strerror(errno);
    std::filesystem::remove(path_);
    throw std::runtime_error("mounting a BPF filesystem failed: " + why);
  }
}

PrivateBpfFs::~PrivateBpfFs() {
  ::umount2(path_.c_str(), MNT_DETACH);
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace lw::test
