// An owned file descriptor, closed when it goes out of scope. Negative means
// none (a failed open): get() returns it unchanged so errno checks still work.
#pragma once

#include <unistd.h>

namespace lw {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace lw
