// The netlink backend: sock_diag's sockets (collect/sock_diag.h) joined with
// their holders from /proc/PID/fd (collect/socket_owners.h), one record per
// (process, fd) like the BPF iterator's. sock_diag answers for one network
// namespace at a time, so each distinct namespace of the processes read is
// dumped once, entered from a thread of its own (CAP_SYS_ADMIN).
#pragma once

#include <memory>

#include "collect/host_paths.h"
#include "collect/sock_diag_closes.h"
#include "collect/socket_source.h"

namespace lw {

class NetlinkSockets final : public SocketSource {
 public:
  explicit NetlinkSockets(HostPaths paths);
  std::vector<SocketRecord> all() override;
  std::vector<SocketRecord> for_process(pid_t pid) override;
  std::string_view name() const override { return "netlink"; }
  Gaps gaps() const override { return gaps_; }
  // Close events from the destroy notifications of every namespace this
  // source reads, from its next pass on (collect/sock_diag_closes.h).
  // Throws lw::Error(no_privilege) when the kernel refuses them.
  std::unique_ptr<CloseEventSource> watch_closes();

 private:
  HostPaths paths_;
  Gaps gaps_;
  std::shared_ptr<DestroyWatch> destroys_;  // null until watch_closes()
};

}  // namespace lw
