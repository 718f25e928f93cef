#include "collect/socket_iter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "collect/bpf_loading.h"
#include "collect/pinned_process.h"
#include "collect/record_bytes.h"
#include "socket_iter.skel.h"
#include "util/error.h"
#include "util/log.h"
#include "util/owned_fd.h"

namespace lw {
namespace {

// Pages made present in one call, not faulted in one by one as the kernel
// copies records into them: in a virtual machine each fault is an exit, and
// a one-shot inspect touches every page fresh. Kernels before 5.14 lack
// MADV_POPULATE_WRITE and fault as before.
void populate(void* start, size_t length) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(start) & ~(page - 1);
  madvise(reinterpret_cast<void*>(first), reinterpret_cast<uintptr_t>(start) + length - first, MADV_POPULATE_WRITE);
}

// Reads the iterator's whole output straight into the records returned, a
// chunk at a time (one read() may end mid-record; the kernel only ever
// emits whole ones). `expected`: the last pass's count, so that a pass of
// the same size never moves its records.
std::vector<SocketRecord> read_records(int iter_fd, size_t expected) {
  constexpr size_t kChunk = (1 << 20) / sizeof(SocketRecord);
  std::vector<SocketRecord> records;
  records.reserve(std::max(expected + expected / 4, 8 * kChunk));
  size_t bytes = 0;
  for (;;) {
    if (bytes == records.size() * sizeof(SocketRecord)) {
      if (records.capacity() < records.size() + kChunk) records.reserve(2 * records.capacity());
      populate(records.data() + records.size(), kChunk * sizeof(SocketRecord));
      records.resize(records.size() + kChunk);
    }
    const ssize_t n =
        read(iter_fd, reinterpret_cast<char*>(records.data()) + bytes, records.size() * sizeof(SocketRecord) - bytes);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw Error(ErrorKind::bpf_refused, fmt::format("reading the socket iterator failed: {}", std::strerror(err)),
                  err);
    }
    bytes += static_cast<size_t>(n);
  }
  records.resize(whole_socket_records(bytes));
  return records;
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

constexpr std::string_view kPinPrefix = "socket_iter-";

// The pin's name says which build of the program it is: a hash of the
// object the skeleton embeds, so a new leakwatch never runs an old program.
std::filesystem::path pin_path(const std::filesystem::path& cache) {
  size_t size = 0;
  const auto* bytes = static_cast<const char*>(socket_iter::elf_bytes(&size));
  const size_t hash = std::hash<std::string_view>{}(std::string_view(bytes, size));
  return cache / fmt::format("{}{:016x}", kPinPrefix, hash);
}

// The pinned program, if there is one and it is an iterator named as ours.
std::optional<OwnedFd> open_pinned(const std::filesystem::path& path) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return std::nullopt;
  OwnedFd program(fd);
  bpf_prog_info info{};
  __u32 length = sizeof(info);
  if (bpf_obj_get_info_by_fd(program.get(), &info, &length) != 0 || info.type != BPF_PROG_TYPE_TRACING ||
      std::string_view(info.name) != "dump_sockets") {
    log::debug("{} is not leakwatch's socket iterator; loading it instead", path.string());
    return std::nullopt;
  }
  log::debug("reusing the socket iterator pinned at {}", path.string());
  return program;
}

// Best effort: without a BPF filesystem there, or with a pin of another
// run in the way, the next run loads the program again.
void pin(int program_fd, const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::create_directory(path.parent_path(), error);
  if (!error) std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, error);
  // Pins of other builds are of no use any more.
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path(), error)) {
    if (entry.path().filename().string().starts_with(kPinPrefix) && entry.path() != path) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  if (bpf_obj_pin(program_fd, path.c_str()) != 0)
    log::debug("not pinned at {}: {}", path.string(), std::strerror(errno));
}

}  // namespace

void LibbpfDeleter::operator()(socket_iter* skeleton) const { socket_iter::destroy(skeleton); }

SocketIterator::SocketIterator(const BpfOptions& options) {
  // A custom BTF may relocate the program differently: not cached.
  const bool cached = !options.program_cache.empty() && options.btf_path.empty();
  const auto pinned_at = cached ? pin_path(options.program_cache) : std::filesystem::path();
  if (cached) pinned_ = open_pinned(pinned_at);
  if (pinned_) return;
  bpf_loading::route_libbpf_output();
  const bpf_loading::LoadLog log;
  LIBBPF_OPTS(bpf_object_open_opts, open_options, .btf_custom_path = options.btf_custom_path());
  skel_.reset(socket_iter::open(&open_options));
  if (!skel_ || socket_iter::load(skel_.get()) != 0) bpf_loading::throw_load_failure("socket iterator", log, errno);
  if (cached) pin(program_fd(), pinned_at);
}

int SocketIterator::program_fd() const { return pinned_ ? pinned_->get() : bpf_program__fd(skel_->progs.dump_sockets); }

SocketIterator::~SocketIterator() = default;

std::vector<SocketRecord> SocketIterator::all() { return run(nullptr); }

std::vector<SocketRecord> SocketIterator::for_process(pid_t pid) {
  const PinnedProcess process(pid);
  union bpf_iter_link_info target = {};
  target.task.pid_fd = static_cast<__u32>(process.pidfd());
  auto records = run(&target);
  process.require_alive();
  return records;
}

std::vector<SocketRecord> SocketIterator::run(const bpf_iter_link_info* target) {
  LIBBPF_OPTS(bpf_link_create_opts, link_options, .iter_info = const_cast<bpf_iter_link_info*>(target),
              .iter_info_len = target ? static_cast<__u32>(sizeof(*target)) : 0);
  const int raw_link = bpf_link_create(program_fd(), 0, BPF_TRACE_ITER, &link_options);
  if (raw_link < 0) {
    const int err = errno;
    throw Error(ErrorKind::bpf_refused, fmt::format("attaching the socket iterator failed: {}", std::strerror(err)),
                err);
  }
  const OwnedFd link(raw_link);
  const int raw_iter = bpf_iter_create(link.get());
  if (raw_iter < 0) {
    const int err = errno;
    throw Error(ErrorKind::bpf_refused, fmt::format("creating the socket iterator failed: {}", std::strerror(err)),
                err);
  }
  const OwnedFd iter(raw_iter);
  auto records = read_records(iter.get(), last_pass_records_);
  last_pass_records_ = records.size();
  keep_one_record_per_fd(records);
  return records;
}

}  // namespace lw
