// Pod identity from cgroup paths and the kubelet's log directory names
// (parse_cgroup_path, parse_pod_directory, parse_container_log). The input
// is tried as each. Never throws; a pod UID is a UUID with dashes or 32 hex
// digits and a container ID 64 hex digits; what was recognised, written back
// as a cgroupfs path, a systemd path or a log name, is recognised the same.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "collect/pod_identity.h"
#include "fuzz_check.h"

namespace {

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_pod_uid(std::string_view uid) {
  if (uid.size() == 32) return is_lower_hex(uid);
  if (uid.size() != 36) return false;
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? uid[i] != '-' : !is_lower_hex(uid.substr(i, 1))) return false;
  }
  return true;
}

bool is_container_id(std::string_view id) { return id.size() == 64 && is_lower_hex(id); }

// A DNS-label-like name as the log parsers accept it: non-empty, no '_'.
bool is_name(const std::string& name) { return !name.empty() && name.find('_') == std::string::npos; }

void check_cgroup_path(std::string_view path) {
  const auto ref = lw::parse_cgroup_path(path);
  if (ref.empty()) {
    LW_FUZZ_CHECK(ref.container_id.empty() && ref.runtime == lw::ContainerRuntime::unknown);
    return;
  }
  LW_FUZZ_CHECK(is_pod_uid(ref.pod_uid));
  LW_FUZZ_CHECK(ref.container_id.empty() || is_container_id(ref.container_id));

  const auto cgroupfs =
      lw::parse_cgroup_path(fmt::format("/kubepods/besteffort/pod{}/{}", ref.pod_uid, ref.container_id));
  LW_FUZZ_CHECK(cgroupfs.pod_uid == ref.pod_uid && cgroupfs.container_id == ref.container_id);

  std::string slice_uid = ref.pod_uid;
  std::replace(slice_uid.begin(), slice_uid.end(), '-', '_');
  const auto systemd = lw::parse_cgroup_path(
      fmt::format("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{}.scope",
                  slice_uid, ref.container_id));
  LW_FUZZ_CHECK(systemd.pod_uid == ref.pod_uid && systemd.container_id == ref.container_id);
  LW_FUZZ_CHECK(systemd.runtime ==
                (ref.container_id.empty() ? lw::ContainerRuntime::unknown : lw::ContainerRuntime::containerd));
}

void check_pod_directory(std::string_view name) {
  const auto pod = lw::parse_pod_directory(name);
  if (!pod) return;
  LW_FUZZ_CHECK(is_name(pod->namespace_) && is_name(pod->pod) && is_pod_uid(pod->pod_uid));
  LW_FUZZ_CHECK(pod->container_names.empty());
  const auto again = lw::parse_pod_directory(fmt::format("{}_{}_{}", pod->namespace_, pod->pod, pod->pod_uid));
  LW_FUZZ_CHECK(again && again->namespace_ == pod->namespace_ && again->pod == pod->pod &&
                again->pod_uid == pod->pod_uid);
}

void check_container_log(std::string_view name) {
  const auto log = lw::parse_container_log(name);
  if (!log) return;
  LW_FUZZ_CHECK(is_name(log->namespace_) && is_name(log->pod) && is_name(log->container));
  LW_FUZZ_CHECK(is_container_id(log->container_id) && log->pod_uid.empty());
  const auto again = lw::parse_container_log(
      fmt::format("{}_{}_{}-{}.log", log->pod, log->namespace_, log->container, log->container_id));
  LW_FUZZ_CHECK(again && again->namespace_ == log->namespace_ && again->pod == log->pod &&
                again->container == log->container && again->container_id == log->container_id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = lw::fuzz::as_text(data, size);
  check_cgroup_path(text);
  check_pod_directory(text);
  check_container_log(text);
  return 0;
}
