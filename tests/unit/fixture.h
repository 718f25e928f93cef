// Files captured from real hosts and kernels, under tests/unit/fixtures.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "collect/procfs.h"

namespace lw::test {

inline std::string fixture(const std::string& name) {
  const auto text = read_text_file(std::filesystem::path(LEAKWATCH_FIXTURES) / name);
  if (!text) throw std::runtime_error("missing fixture " + name);
  return *text;
}

}  // namespace lw::test
