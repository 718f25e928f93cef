// Kubernetes pod identity of a process, without calling the API server on
// every sample: the pod UID and container ID come from the process's cgroup
// path (containerd, CRI-O, Docker; systemd and cgroupfs drivers; cgroup v1
// and v2), and namespace, pod and container names from joining them with
// the kubelet's log directory naming:
//
//   <log root>/pods/<namespace>_<pod>_<pod uid>/<container>/N.log
//   <log root>/containers/<pod>_<namespace>_<container>-<container id>.log
//
// The log root is indexed once per refresh(), never per process. What is
// unknown stays empty: a label is never guessed, so a UID without a log
// directory gives the UID and container ID and empty names.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collect/procfs.h"

namespace lw {

enum class ContainerRuntime { unknown, containerd, crio, docker };

std::string_view runtime_name(ContainerRuntime runtime);

// What a cgroup path alone tells. All empty when the path is not a pod's.
struct CgroupPodRef {
  std::string pod_uid;       // with dashes, as the API server shows it ("6f2c1a4e-9b1d-...")
  std::string container_id;  // 64 hex digits; empty for the pod's own cgroup or a runtime helper (conmon)
  ContainerRuntime runtime = ContainerRuntime::unknown;  // unknown for cgroupfs paths of bare IDs
  bool empty() const { return pod_uid.empty(); }
};

// Pure: one path as /proc/PID/cgroup shows it, e.g.
//   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope
//   /kubepods/besteffort/pod<uid>/<id>
// A pod component is only recognised below a "kubepods" component.
CgroupPodRef parse_cgroup_path(std::string_view path);

// The labels every series of a process can carry. Field names match the
// Prometheus labels: namespace, pod, pod_uid, container, container_id.
struct PodIdentity {
  std::string namespace_;
  std::string pod;
  std::string pod_uid;
  std::string container;
  std::string container_id;
  bool empty() const { return pod_uid.empty(); }
  bool operator==(const PodIdentity&) const = default;
};

// The identity as the labels every series, finding and alert carries:
// namespace, pod, pod_uid and container, only those known. The container ID
// is left out: the cgroup label already holds it, and it changes with every
// restart of the container, which would start new series for no reason.
std::vector<std::pair<std::string, std::string>> pod_labels(const PodIdentity& pod);

// One pod as some directory of pods knows it.
struct PodRecord {
  std::string namespace_;
  std::string pod;
  std::string pod_uid;
  std::unordered_map<std::string, std::string> container_names;  // container ID -> name
};

// The kubelet's log directory names, pure (KubeletLogSource lists them):
//   pods/<namespace>_<pod>_<pod uid>         -> a PodRecord without containers
//   containers/<pod>_<namespace>_<container>-<container id>.log
// nullopt for any other name.
std::optional<PodRecord> parse_pod_directory(std::string_view name);
struct ContainerLog {
  std::string namespace_, pod, container, container_id;
  std::string pod_uid;  // from where the symlink points, when it does; empty from the name alone
};
std::optional<ContainerLog> parse_container_log(std::string_view name);

// Where pod names come from. The kubelet's log directories are the built-in
// source (KubeletLogSource); a kubelet API source (GET /pods on the
// kubelet's read-only or authenticated port) fits the same interface and is
// not implemented yet (docs/KUBERNETES.md).
class PodSource {
 public:
  virtual ~PodSource() = default;
  // Every pod the source knows now. Called once per refresh; may do I/O.
  virtual std::vector<PodRecord> list_pods() = 0;
  // Whether list_pods() may now answer differently from its last answer;
  // a source that cannot tell cheaply says true.
  virtual bool may_have_changed() { return true; }
};

// Reads <log root>/pods and <log root>/containers. The kubelet adds and
// removes entries there as pods and containers come and go, which changes
// the directories' modification times: while neither has changed (and the
// last listing is under a minute old) there is nothing new to read. A
// listing taken within a second of a change is not trusted (timestamps are
// coarse: a second change in the same tick would look like none).
class KubeletLogSource : public PodSource {
 public:
  explicit KubeletLogSource(std::filesystem::path log_root) : log_root_(std::move(log_root)) {}
  std::vector<PodRecord> list_pods() override;
  bool may_have_changed() override;

 private:
  struct Stamp {
    std::optional<std::filesystem::file_time_type> pods, containers;  // nullopt: missing
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;

  std::filesystem::path log_root_;
  std::optional<Stamp> listed_;  // the directories as of the last listing
  std::filesystem::file_time_type listed_at_file_time_;
  std::chrono::steady_clock::time_point listed_at_;
};

class PodIdentityResolver {
 public:
  // log_root: the kubelet's log directory as the agent sees it, e.g.
  // /host/var/log (HostPaths::log). Nothing is read until refresh().
  explicit PodIdentityResolver(std::filesystem::path log_root);
  // Any source, e.g. a test double or a future kubelet API client.
  explicit PodIdentityResolver(std::unique_ptr<PodSource> source);

  // Re-indexes the source when it may have changed: once per sampling round
  // (or less often), never per process. A missing or unreadable directory
  // leaves the index empty.
  void refresh();

  // The identity of a process from its /proc/PID/cgroup lines; the unified
  // (v2) line is preferred, then the memory controller's, then any other.
  // Thread-safe against other const calls; not against refresh().
  PodIdentity resolve(const std::vector<CgroupMembership>& cgroups) const;
  PodIdentity resolve(std::string_view cgroup_path) const;

  size_t pods_indexed() const { return pods_.size(); }

 private:
  std::unique_ptr<PodSource> source_;
  std::unordered_map<std::string, PodRecord> pods_;  // by pod UID
};

}  // namespace lw
