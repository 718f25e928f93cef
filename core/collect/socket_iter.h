// The loaded socket iterator BPF program. One object loads the program once;
// each call runs one pass over the kernel's task/file tables.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "collect/bpf_loading.h"
#include "collect/socket_source.h"
#include "model/socket_record.h"
#include "util/libbpf_ptr.h"
#include "util/owned_fd.h"

union bpf_iter_link_info;

namespace lw {

class SocketIterator final : public SocketSource {
 public:
  // Loads the program, or reuses the one pinned in options.program_cache for
  // this build of it (a BPF filesystem lives as long as the kernel that
  // mounted it, so what it holds was verified by the running kernel), and
  // pins it there when it was loaded. Throws lw::Error(no_privilege) when we
  // lack the capabilities, lw::Error(bpf_refused) when the kernel refuses it.
  explicit SocketIterator(const BpfOptions& options = {});
  ~SocketIterator() override;
  SocketIterator(SocketIterator&&) noexcept = default;
  SocketIterator& operator=(SocketIterator&&) noexcept = default;

  // Every socket of every process: one pass over all tasks.
  std::vector<SocketRecord> all() override;
  // The sockets of one process only (a task-targeted iterator). Throws
  // lw::Error(process_exited) when the process is gone before or exits
  // during the pass.
  std::vector<SocketRecord> for_process(pid_t pid) override;
  std::string_view name() const override { return "bpf"; }

 private:
  std::vector<SocketRecord> run(const bpf_iter_link_info* target);
  int program_fd() const;

  LibbpfPtr<socket_iter> skel_;    // the object, when loaded here
  std::optional<OwnedFd> pinned_;  // the program, when an earlier run's pin is reused
  size_t last_pass_records_ = 0;   // room made for the next pass
};

}  // namespace lw
