#include "collect/socket_close.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "collect/bpf_loading.h"
#include "collect/record_bytes.h"
#include "socket_close.skel.h"
#include "util/error.h"

namespace lw {
namespace {

constexpr std::string_view kProgram = "close-event programs";

// The kernel only accepts ring buffers of a power-of-two number of pages.
void require_valid_ring_size(size_t ring_bytes) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (ring_bytes < page || !std::has_single_bit(ring_bytes)) {
    throw Error(
        ErrorKind::usage,
        fmt::format("close-event ring buffer of {} bytes: it must be a power of two of at least {}", ring_bytes, page));
  }
}

}  // namespace

void LibbpfDeleter::operator()(socket_close* skeleton) const { socket_close::destroy(skeleton); }

BpfCloseEvents::BpfCloseEvents(size_t ring_bytes, const BpfOptions& options) {
  require_valid_ring_size(ring_bytes);
  bpf_loading::route_libbpf_output();
  const bpf_loading::LoadLog log;
  LIBBPF_OPTS(bpf_object_open_opts, open_options, .btf_custom_path = options.btf_custom_path());
  skel_.reset(socket_close::open(&open_options));
  if (!skel_) bpf_loading::throw_load_failure(kProgram, log, errno);
  int err = bpf_map__set_max_entries(skel_->maps.close_events, static_cast<__u32>(ring_bytes));
  if (!err) err = socket_close::load(skel_.get());
  if (!err) err = socket_close::attach(skel_.get());
  if (err) bpf_loading::throw_load_failure(kProgram, log, -err);
  ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.close_events), on_event, drain_target_.get(), nullptr));
  if (!ring_) bpf_loading::throw_load_failure(kProgram, log, errno);
}

BpfCloseEvents::~BpfCloseEvents() = default;

// The kernel side writes nothing but whole CloseEvents, compiled from the
// same header; a sample of any other size stops the drain with an error
// instead of being read past its end.
int BpfCloseEvents::on_event(void* ctx, void* data, size_t size) {
  auto* target = *static_cast<std::vector<CloseEvent>**>(ctx);
  const auto event = close_event_from_bytes({static_cast<const std::byte*>(data), size});
  if (!event) return -EBADMSG;
  target->push_back(*event);
  return 0;
}

void BpfCloseEvents::drain(std::vector<CloseEvent>& out) {
  *drain_target_ = &out;
  const int consumed = ring_buffer__consume(ring_.get());
  *drain_target_ = nullptr;
  if (consumed < 0) {
    throw Error(ErrorKind::bpf_refused,
                fmt::format("reading the close-event ring buffer failed: {}", std::strerror(-consumed)), -consumed);
  }
}

BpfCloseEvents::Counters BpfCloseEvents::counters() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) {
    throw Error(ErrorKind::io, fmt::format("counting possible CPUs failed: {}", std::strerror(-cpus)), -cpus);
  }
  auto total = [&](__u32 counter) {
    std::vector<__u64> per_cpu(static_cast<size_t>(cpus));
    if (bpf_map__lookup_elem(skel_->maps.close_counters, &counter, sizeof(counter), per_cpu.data(),
                             per_cpu.size() * sizeof(__u64), 0) != 0) {
      const int err = errno;
      throw Error(ErrorKind::bpf_refused,
                  fmt::format("reading the close-event counters failed: {}", std::strerror(err)), err);
    }
    uint64_t sum = 0;
    for (const __u64 v : per_cpu) sum += v;
    return sum;
  };
  uint64_t recursion_misses = 0;
  bpf_program* program = nullptr;
  bpf_object__for_each_program(program, skel_->obj) {
    bpf_prog_info info{};
    __u32 length = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length) != 0) {
      const int err = errno;
      throw Error(ErrorKind::bpf_refused,
                  fmt::format("reading the close-event programs' info failed: {}", std::strerror(err)), err);
    }
    recursion_misses += info.recursion_misses;
  }
  return {.sent = total(LW_CLOSE_EVENTS_SENT),
          .lost = total(LW_CLOSE_EVENTS_LOST),
          .owner_storage_full = total(LW_OWNER_STORAGE_FULL),
          .recursion_misses = recursion_misses};
}

}  // namespace lw
