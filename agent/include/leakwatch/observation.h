// Samples as the analysis sees them: one Observation per subject per round.
#pragma once

#include <vector>

#include "leakwatch/analysis.h"
#include "leakwatch/node_sample.h"

namespace lw {

// One process at `time` (seconds, monotonic); cgroup may be null.
Observation observe_process(const ProcessSample& process, const CgroupSample* cgroup, double time);

// A whole cgroup (container): its processes summed, endpoints merged by
// name, and its own ingress counter, which outlives recycled workers.
Observation observe_cgroup(const CgroupSample& cgroup, const std::vector<const ProcessSample*>& members, double time,
                           size_t top_endpoints);

}  // namespace lw
