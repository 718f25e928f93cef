// Owners of libbpf objects: unique_ptrs with one stateless deleter, so an
// owner is one pointer wide and its holder can be moved with a defaulted
// move (bpftrace's bpfbytecode.h does the same). Each overload is defined
// beside the code that knows the object's type (a skeleton's lives in the
// one file that includes that skeleton).
#pragma once

#include <memory>

struct bpf_link;
struct ring_buffer;
struct socket_iter;
struct socket_close;

namespace lw {

struct LibbpfDeleter {
  void operator()(bpf_link* link) const;
  void operator()(ring_buffer* ring) const;
  void operator()(socket_iter* skeleton) const;
  void operator()(socket_close* skeleton) const;
};

template <typename T>
using LibbpfPtr = std::unique_ptr<T, LibbpfDeleter>;

}  // namespace lw
