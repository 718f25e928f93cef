// The inspect report as a person reads it in a terminal.
#pragma once

#include <string>

#include "collect/process_inspector.h"

namespace lw::cli {

std::string render_text(const ProcessReport& report);

}  // namespace lw::cli
