#include "collect/socket_source.h"

#include <fmt/format.h>

#include "collect/netlink_sockets.h"
#include "collect/socket_close.h"
#include "collect/socket_iter.h"
#include "util/error.h"

namespace lw {
namespace {

bool is_refusal(const Error& e) { return e.kind() == ErrorKind::bpf_refused || e.kind() == ErrorKind::no_privilege; }

}  // namespace

OpenedSource open_socket_source(const BackendChoice& choice, const HostPaths& paths) {
  if (choice.backend == Backend::netlink) return {std::make_unique<NetlinkSockets>(paths), ""};
  try {
    return {std::make_unique<SocketIterator>(choice.bpf), ""};
  } catch (const Error& e) {
    if (choice.backend == Backend::bpf || !is_refusal(e)) throw;
    return {std::make_unique<NetlinkSockets>(paths), fmt::format("using the netlink socket backend: {}", e.what())};
  }
}

std::unique_ptr<CloseEventSource> open_close_events(const BackendChoice& choice, SocketSource& sockets,
                                                    size_t ring_bytes,
                                                    const std::function<void(const std::string&)>& note) {
  std::string bpf_refusal;
  if (choice.backend != Backend::netlink) {
    try {
      return std::make_unique<BpfCloseEvents>(ring_bytes, choice.bpf);
    } catch (const Error& e) {
      if (choice.backend == Backend::bpf || !is_refusal(e)) throw;
      bpf_refusal = fmt::format("the BPF close-event programs were refused: {}; ", e.what());
    }
  }
  auto* netlink = dynamic_cast<NetlinkSockets*>(&sockets);
  if (!netlink) {
    note(
        fmt::format("connections that close between two samples are not counted: {}without the netlink socket "
                    "backend there are no destroy notifications",
                    bpf_refusal));
    return nullptr;
  }
  // Closes are worth having, not worth refusing to start over.
  try {
    return netlink->watch_closes();
  } catch (const Error& e) {
    note(fmt::format("connections that close between two samples are not counted: {}{}", bpf_refusal, e.what()));
  }
  return nullptr;
}

}  // namespace lw
