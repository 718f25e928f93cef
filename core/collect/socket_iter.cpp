#include "collect/socket_iter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_set>
#include <utility>

#include "collect/bpf_loading.h"
#include "collect/pinned_process.h"
#include "collect/record_bytes.h"
#include "socket_iter.skel.h"
#include "util/error.h"
#include "util/owned_fd.h"

namespace lw {
namespace {

// Reads the iterator's whole output straight into the record array. The
// kernel only ever emits whole records, but one read() may end mid-record.
// The buffer is kept between passes and never zero-filled: on a machine with
// tens of thousands of sockets, page faults on fresh memory would cost more
// than the pass itself.
std::vector<SocketRecord> read_records(int iter_fd, RecordBuffer& buffer) {
  size_t bytes = 0;
  for (;;) {
    if (bytes == buffer.capacity * sizeof(SocketRecord)) buffer.grow();
    auto* dest = reinterpret_cast<char*>(buffer.records.get()) + bytes;
    const ssize_t n = read(iter_fd, dest, buffer.capacity * sizeof(SocketRecord) - bytes);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw Error(ErrorKind::bpf_refused, fmt::format("reading the socket iterator failed: {}", std::strerror(err)),
                  err);
    }
    bytes += static_cast<size_t>(n);
  }
  return socket_records_from_bytes({reinterpret_cast<const std::byte*>(buffer.records.get()), bytes});
}

// The iterator walks tasks and skips a thread whose files table is its
// leader's; once the leader has exited (pthread_exit from main) nothing is
// skipped, and every live thread reports the same fds again. Each task's
// fds come in ascending order, so a repeat shows as a process met again or
// an fd that does not rise; only then are the records sorted out.
void keep_one_record_per_fd(std::vector<SocketRecord>& records) {
  std::unordered_set<uint32_t> processes;
  bool repeated = false;
  for (size_t i = 0; i < records.size() && !repeated; ++i) {
    const bool same_process = i > 0 && records[i].tgid == records[i - 1].tgid;
    repeated = same_process ? records[i].fd <= records[i - 1].fd : !processes.insert(records[i].tgid).second;
  }
  if (!repeated) return;
  std::set<std::pair<uint32_t, uint32_t>> kept;
  std::erase_if(records, [&](const SocketRecord& r) { return !kept.insert({r.tgid, r.fd}).second; });
}

}  // namespace

void LibbpfDeleter::operator()(socket_iter* skeleton) const { socket_iter::destroy(skeleton); }

SocketIterator::SocketIterator(const BpfOptions& options) {
  bpf_loading::route_libbpf_output();
  const bpf_loading::LoadLog log;
  LIBBPF_OPTS(bpf_object_open_opts, open_options, .btf_custom_path = options.btf_custom_path());
  skel_.reset(socket_iter::open(&open_options));
  if (!skel_ || socket_iter::load(skel_.get()) != 0) bpf_loading::throw_load_failure("socket iterator", log, errno);
}

SocketIterator::~SocketIterator() = default;

void RecordBuffer::grow() {
  // Enough for a busy host at once; doubling afterwards.
  const size_t next = capacity == 0 ? 65536 : capacity * 2;
  auto bigger = std::make_unique_for_overwrite<SocketRecord[]>(next);
  if (capacity > 0) std::memcpy(bigger.get(), records.get(), capacity * sizeof(SocketRecord));
  records = std::move(bigger);
  capacity = next;
}

std::vector<SocketRecord> SocketIterator::all() { return run(nullptr); }

std::vector<SocketRecord> SocketIterator::for_process(pid_t pid) {
  const PinnedProcess process(pid);
  union bpf_iter_link_info link_info = {};
  link_info.task.pid_fd = static_cast<__u32>(process.pidfd());
  LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &link_info, .link_info_len = sizeof(link_info));
  auto records = run(&opts);
  process.require_alive();
  return records;
}

std::vector<SocketRecord> SocketIterator::run(const bpf_iter_attach_opts* opts) {
  const LibbpfPtr<bpf_link> link(bpf_program__attach_iter(skel_->progs.dump_sockets, opts));
  if (!link) {
    const int err = errno;
    throw Error(ErrorKind::bpf_refused, fmt::format("attaching the socket iterator failed: {}", std::strerror(err)),
                err);
  }
  const int raw_iter = bpf_iter_create(bpf_link__fd(link.get()));
  if (raw_iter < 0) {
    const int err = errno;
    throw Error(ErrorKind::bpf_refused, fmt::format("creating the socket iterator failed: {}", std::strerror(err)),
                err);
  }
  const OwnedFd iter(raw_iter);
  auto records = read_records(iter.get(), buffer_);
  keep_one_record_per_fd(records);
  return records;
}

}  // namespace lw
