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

std::unique_ptr<CloseEventSource> open_close_events(const BackendChoice& choice, size_t ring_bytes,
                                                    const std::function<void(const std::string&)>& note) {
  if (choice.backend == Backend::netlink) return nullptr;
  try {
    return std::make_unique<CloseEventSource>(ring_bytes, choice.bpf);
  } catch (const Error& e) {
    if (choice.backend == Backend::bpf || !is_refusal(e)) throw;
    note(
        fmt::format("connections that close between two samples are not counted: the BPF close-event programs "
                    "were refused: {}",
                    e.what()));
  }
  return nullptr;
}

}  // namespace lw
