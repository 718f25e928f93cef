// An open file descriptor, closed when its owner goes. It never holds a
// failed call's -1: check the call's result (and its errno) first, then hand
// the descriptor over, so "is it open?" is never a question at use sites.
// Where a descriptor may be absent, say so with std::optional<OwnedFd>.
#pragma once

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace lw {

class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {
    if (fd < 0) throw std::invalid_argument("OwnedFd given " + std::to_string(fd) + " instead of an open descriptor");
  }
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, kMovedFrom)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) {
      close_now();
      fd_ = std::exchange(other.fd_, kMovedFrom);
    }
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { close_now(); }

  int get() const { return fd_; }

 private:
  // A moved-from owner only waits to be destroyed or assigned.
  static constexpr int kMovedFrom = -1;

  void close_now() {
    if (fd_ != kMovedFrom) ::close(fd_);
  }

  int fd_;
};

}  // namespace lw
