// Where a round's socket records come from. Two backends give the same
// records: the BPF iterator (collect/socket_iter.h) and, where the kernel
// refuses BPF, the kernel's sock_diag netlink interface joined with /proc
// (collect/netlink_sockets.h). Everything downstream reads SocketRecords
// and never knows which.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/bpf_loading.h"
#include "collect/host_paths.h"
#include "model/socket_record.h"

namespace lw {

class CloseEventSource;

class SocketSource {
 public:
  virtual ~SocketSource() = default;
  // Every socket of every process.
  virtual std::vector<SocketRecord> all() = 0;
  // The sockets of one process. Throws lw::Error(process_exited) when the
  // process is gone before or exits during the read.
  virtual std::vector<SocketRecord> for_process(pid_t pid) = 0;
  // "bpf" or "netlink", as the agent exports it.
  virtual std::string_view name() const = 0;
  // What the last read could not see: socket descriptors it found but
  // could not describe (kinds the backend does not read, namespaces it could
  // not enter), and processes whose descriptors it could not read at all.
  // Always nothing for BPF, which reads both in the kernel.
  struct Gaps {
    size_t unseen_sockets = 0;
    size_t unreadable_processes = 0;
  };
  virtual Gaps gaps() const { return {}; }
};

enum class Backend { automatic, bpf, netlink };

// What --backend and --btf chose.
struct BackendChoice {
  Backend backend = Backend::automatic;
  BpfOptions bpf;
};

struct OpenedSource {
  std::unique_ptr<SocketSource> source;
  // Why `auto` fell back to netlink, in one line; empty when it did not.
  std::string fallback_reason;
};

// The backend asked for. `automatic` tries BPF and, when the kernel or our
// privileges refuse it, uses netlink and says why; `bpf` throws that
// refusal instead.
OpenedSource open_socket_source(const BackendChoice& choice, const HostPaths& paths);

// Close events to go with the choice and the socket source it opened: BPF's
// (collect/socket_close.h); for `netlink`, and for `automatic` when the
// kernel refuses BPF's and the sockets come from netlink, sock_diag's
// destroy notifications (collect/sock_diag_closes.h). None (nullptr) when
// those fail too (refused, or a kernel without them), said through `note`
// in one line.
std::unique_ptr<CloseEventSource> open_close_events(const BackendChoice& choice, SocketSource& sockets,
                                                    size_t ring_bytes,
                                                    const std::function<void(const std::string&)>& note);

}  // namespace lw
