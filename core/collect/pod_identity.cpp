#include "collect/pod_identity.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <utility>

#include "util/text_parse.h"

namespace lw {
namespace {

namespace fs = std::filesystem;
using text::split;

constexpr size_t kContainerIdLength = 64;

bool is_hex(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_container_id(std::string_view text) { return text.size() == kContainerIdLength && is_hex(text); }

// A pod UID as the kubelet writes it: a UUID with dashes (API pods), with
// underscores (systemd slice names cannot hold '-' inside a unit name), or
// 32 hex digits (static and mirror pods: a hash of the manifest).
std::optional<std::string> normalize_pod_uid(std::string_view text) {
  std::string uid(text);
  std::replace(uid.begin(), uid.end(), '_', '-');
  if (uid.size() == 32 && is_hex(uid)) return uid;
  if (uid.size() != 36) return std::nullopt;
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? uid[i] != '-' : !is_hex(std::string_view(&uid[i], 1))) return std::nullopt;
  }
  return uid;
}

std::string_view strip_suffix(std::string_view text, std::string_view suffix) {
  return text.ends_with(suffix) ? text.substr(0, text.size() - suffix.size()) : text;
}

// "pod<uid>" (cgroupfs) or "...-pod<uid_>.slice" (systemd), e.g.
// "kubepods-burstable-pod6f2c1a4e_9b1d_....slice".
std::optional<std::string> pod_uid_of_component(std::string_view component) {
  const auto name = strip_suffix(component, ".slice");
  size_t at = std::string_view::npos;
  if (name.starts_with("pod")) {
    at = 3;
  } else if (const auto dash = name.rfind("-pod"); dash != std::string_view::npos) {
    at = dash + 4;
  }
  if (at == std::string_view::npos) return std::nullopt;
  return normalize_pod_uid(name.substr(at));
}

struct RuntimePrefix {
  std::string_view prefix;
  ContainerRuntime runtime;
};

// systemd scope names ("cri-containerd-<id>.scope") and CRI-O's cgroupfs
// names ("crio-<id>"). "crio-conmon-<id>" is CRI-O's monitor process, which
// belongs to the pod but is no container: its ID would be wrong.
constexpr std::array<RuntimePrefix, 3> kRuntimePrefixes{{
    {"cri-containerd-", ContainerRuntime::containerd},
    {"crio-", ContainerRuntime::crio},
    {"docker-", ContainerRuntime::docker},
}};

void parse_container_component(std::string_view component, CgroupPodRef& ref) {
  const auto name = strip_suffix(component, ".scope");
  if (is_container_id(name)) {  // cgroupfs driver: the bare ID, any runtime
    ref.container_id = std::string(name);
    return;
  }
  for (const auto& [prefix, runtime] : kRuntimePrefixes) {
    if (!name.starts_with(prefix)) continue;
    const auto id = name.substr(prefix.size());
    if (!is_container_id(id)) return;
    ref.container_id = std::string(id);
    ref.runtime = runtime;
    return;
  }
}

}  // namespace

// "<namespace>_<pod>_<uid>": namespaces and pod names are DNS labels and
// subdomains, so they never contain '_'.
std::optional<PodRecord> parse_pod_directory(std::string_view name) {
  const auto parts = split(name, '_');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) return std::nullopt;
  const auto uid = normalize_pod_uid(parts[2]);
  if (!uid) return std::nullopt;
  return PodRecord{
      .namespace_ = std::string(parts[0]), .pod = std::string(parts[1]), .pod_uid = *uid, .container_names = {}};
}

// "<pod>_<namespace>_<container>-<id>.log"; container names are DNS labels.
std::optional<ContainerLog> parse_container_log(std::string_view name) {
  if (!name.ends_with(".log")) return std::nullopt;
  name.remove_suffix(4);
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos || !is_container_id(name.substr(dash + 1))) return std::nullopt;
  const auto parts = split(name.substr(0, dash), '_');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) return std::nullopt;
  return ContainerLog{.namespace_ = std::string(parts[1]),
                      .pod = std::string(parts[0]),
                      .container = std::string(parts[2]),
                      .container_id = std::string(name.substr(dash + 1)),
                      .pod_uid = {}};
}

namespace {

// The kubelet's symlink points into pods/<namespace>_<pod>_<uid>/<container>/.
std::string pod_uid_of_link_target(const fs::path& target) {
  for (const auto& component : target) {
    if (const auto pod = parse_pod_directory(component.string())) return pod->pod_uid;
  }
  return {};
}

std::vector<fs::directory_entry> list_directory(const fs::path& directory) {
  std::vector<fs::directory_entry> entries;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    entries.push_back(*it);
  }
  return entries;
}

}  // namespace

std::string_view runtime_name(ContainerRuntime runtime) {
  switch (runtime) {
    case ContainerRuntime::containerd: return "containerd";
    case ContainerRuntime::crio: return "cri-o";
    case ContainerRuntime::docker: return "docker";
    case ContainerRuntime::unknown: break;
  }
  return "unknown";
}

CgroupPodRef parse_cgroup_path(std::string_view path) {
  // Anchors: a "kubepods" level, or ".." when the reader sits in a private
  // cgroup namespace (the default for containers on cgroup v2), which shows
  // other cgroups relative to its own: "/../../kubepods-besteffort-pod<uid>.slice/...".
  bool anchored = false;
  const auto components = split(path, '/');
  for (size_t i = 0; i < components.size(); ++i) {
    const auto component = components[i];
    const bool anchor = component == ".." || component.find("kubepods") != std::string_view::npos;
    if (anchored || anchor) {
      if (const auto uid = pod_uid_of_component(component)) {
        CgroupPodRef ref;
        ref.pod_uid = *uid;
        if (i + 1 < components.size()) parse_container_component(components[i + 1], ref);
        return ref;
      }
    }
    if (anchor) {
      anchored = true;
    } else if (anchored && component != "burstable" && component != "besteffort") {
      return {};  // only QoS levels lie between "kubepods" and the pod
    }
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> pod_labels(const PodIdentity& pod) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& [name, value] : {std::pair{"namespace", &pod.namespace_}, std::pair{"pod", &pod.pod},
                                    std::pair{"pod_uid", &pod.pod_uid}, std::pair{"container", &pod.container}}) {
    if (!value->empty()) labels.emplace_back(name, *value);
  }
  return labels;
}

KubeletLogSource::Stamp KubeletLogSource::stamp() const {
  const auto modified = [](const fs::path& directory) -> std::optional<fs::file_time_type> {
    std::error_code error;
    const auto time = fs::last_write_time(directory, error);
    if (error) return std::nullopt;
    return time;
  };
  return {modified(log_root_ / "pods"), modified(log_root_ / "containers")};
}

bool KubeletLogSource::may_have_changed() {
  constexpr auto kAtLeastEvery = std::chrono::minutes(1);
  constexpr auto kTimestampSlack = std::chrono::seconds(1);
  if (!listed_ || std::chrono::steady_clock::now() - listed_at_ >= kAtLeastEvery) return true;
  const auto recent = [&](const std::optional<fs::file_time_type>& t) {
    return t && *t + kTimestampSlack > listed_at_file_time_;
  };
  return recent(listed_->pods) || recent(listed_->containers) || stamp() != *listed_;
}

std::vector<PodRecord> KubeletLogSource::list_pods() {
  // Stamped before reading: a change while listing shows as a change next time.
  listed_at_file_time_ = fs::file_time_type::clock::now();
  listed_at_ = std::chrono::steady_clock::now();
  listed_ = stamp();
  std::map<std::string, PodRecord> by_uid;
  std::multimap<std::pair<std::string, std::string>, std::string> uids_by_name;  // (namespace, pod) -> uid
  for (const auto& entry : list_directory(log_root_ / "pods")) {
    auto pod = parse_pod_directory(entry.path().filename().string());
    if (!pod) continue;
    uids_by_name.emplace(std::pair(pod->namespace_, pod->pod), pod->pod_uid);
    by_uid.emplace(pod->pod_uid, std::move(*pod));
  }
  for (const auto& entry : list_directory(log_root_ / "containers")) {
    auto log = parse_container_log(entry.path().filename().string());
    if (!log) continue;
    std::error_code error;
    if (const auto target = fs::read_symlink(entry.path(), error); !error)
      log->pod_uid = pod_uid_of_link_target(target);
    if (log->pod_uid.empty()) {
      // Joined by name only when exactly one pod has that name: a pod
      // recreated under the same name keeps its old log directory a while.
      const auto [first, last] = uids_by_name.equal_range({log->namespace_, log->pod});
      if (first == last || std::next(first) != last) continue;
      log->pod_uid = first->second;
    }
    auto [it, inserted] = by_uid.try_emplace(log->pod_uid);
    PodRecord& pod = it->second;
    if (inserted)
      pod = PodRecord{.namespace_ = log->namespace_, .pod = log->pod, .pod_uid = log->pod_uid, .container_names = {}};
    if (pod.namespace_ != log->namespace_ || pod.pod != log->pod) continue;  // contradicts the pod directory
    pod.container_names.emplace(log->container_id, log->container);
  }
  std::vector<PodRecord> pods;
  pods.reserve(by_uid.size());
  for (auto& [uid, pod] : by_uid) pods.push_back(std::move(pod));
  return pods;
}

PodIdentityResolver::PodIdentityResolver(fs::path log_root)
    : source_(std::make_unique<KubeletLogSource>(std::move(log_root))) {}

PodIdentityResolver::PodIdentityResolver(std::unique_ptr<PodSource> source) : source_(std::move(source)) {}

void PodIdentityResolver::refresh() {
  if (!source_->may_have_changed()) return;
  std::unordered_map<std::string, PodRecord> pods;
  for (auto& pod : source_->list_pods()) {
    const std::string uid = pod.pod_uid;
    pods.emplace(uid, std::move(pod));
  }
  pods_ = std::move(pods);
}

PodIdentity PodIdentityResolver::resolve(std::string_view cgroup_path) const {
  const auto ref = parse_cgroup_path(cgroup_path);
  if (ref.empty()) return {};
  PodIdentity identity{
      .namespace_ = {}, .pod = {}, .pod_uid = ref.pod_uid, .container = {}, .container_id = ref.container_id};
  const auto pod = pods_.find(ref.pod_uid);
  if (pod == pods_.end()) return identity;
  identity.namespace_ = pod->second.namespace_;
  identity.pod = pod->second.pod;
  if (const auto name = pod->second.container_names.find(ref.container_id); name != pod->second.container_names.end()) {
    identity.container = name->second;
  }
  return identity;
}

PodIdentity PodIdentityResolver::resolve(const std::vector<CgroupMembership>& cgroups) const {
  const auto rank = [](const CgroupMembership& m) {
    if (m.is_unified()) return 0;
    if (m.lists("memory")) return 1;
    return 2;
  };
  std::vector<const CgroupMembership*> ordered;
  for (const auto& m : cgroups) ordered.push_back(&m);
  std::stable_sort(ordered.begin(), ordered.end(), [&](const auto* a, const auto* b) { return rank(*a) < rank(*b); });
  for (const auto* m : ordered) {
    if (auto identity = resolve(m->path); !identity.empty()) return identity;
  }
  return {};
}

}  // namespace lw
