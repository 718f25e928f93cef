// Samples as the analysis sees them: one Observation per subject per round.
#pragma once

#include "leakwatch/analysis.h"
#include "leakwatch/node_sample.h"

namespace lw {

// One process at `time` (seconds, monotonic); cgroup may be null.
Observation observe_process(const ProcessSample& process, const CgroupSample* cgroup, double time);

}  // namespace lw
