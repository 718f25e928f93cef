// Close events where BPF is refused: sock_diag's TCP destroy notifications
// (collect/sock_diag.h), one listener per network namespace the netlink
// backend reads, turned into the same CloseEvents the BPF programs send.
// A notification names its socket by cookie only; the netlink pass tells
// the cookies of the sockets it saw, so a tracked socket's close carries the
// inode the ingress ledger knows. A socket no pass saw (opened and closed
// between two rounds) has no inode and no owner: it goes to the cgroup every
// TCP socket of its namespace was created in at the last pass (a pod's
// container), when there is one such cgroup, and is unattributed otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "collect/sock_diag.h"
#include "collect/socket_close.h"
#include "util/owned_fd.h"

namespace lw {

// The listeners and what the passes told of each namespace. One thread
// (the sampler's) both feeds and drains it.
class DestroyWatch {
 public:
  // Joins the notifications of our own namespace now, so that a refusal is
  // known at start: throws lw::Error(no_privilege) then.
  DestroyWatch();

  // Before a pass dumps a namespace (netns_fd: how to enter it, nullopt for
  // our own): listens to it from now on, if it did not already.
  void watch(uint64_t netns, std::optional<int> netns_fd);
  // After the dump: its TCP sockets by cookie, and their cgroup.
  void identify(uint64_t netns, TcpIdentities tcp);
  // After a whole-node pass: the namespaces it did not see are gone; what
  // their listeners hold is kept for the next drain, then they are closed.
  void keep_only(const std::set<uint64_t>& seen);

  void drain(std::vector<CloseEvent>& out);
  CloseEventSource::Counters counters() const;

 private:
  struct Namespace {
    OwnedFd listener;
    // This pass's identities and the one before: a socket seen by a pass
    // may close while the next one runs, its notification read after.
    TcpIdentities current, previous;
  };
  void take(Namespace& ns, std::vector<CloseEvent>& out);

  uint64_t own_netns_;
  std::map<uint64_t, Namespace> namespaces_;
  std::vector<CloseEvent> taken_;  // from listeners closed since the last drain
  uint64_t received_ = 0;
  uint64_t dropped_by_closed_ = 0;  // by listeners already closed
};

class SockDiagCloseEvents final : public CloseEventSource {
 public:
  explicit SockDiagCloseEvents(std::shared_ptr<DestroyWatch> watch) : watch_(std::move(watch)) {}
  void drain(std::vector<CloseEvent>& out) override { watch_->drain(out); }
  Counters counters() const override { return watch_->counters(); }
  std::string_view name() const override { return "sock_diag_destroy"; }

 private:
  std::shared_ptr<DestroyWatch> watch_;
};

}  // namespace lw
