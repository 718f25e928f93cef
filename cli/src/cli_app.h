// The leakwatch command line: parses flags, runs a subcommand, and turns
// every failure into one line on stderr and a documented exit code.
#pragma once

namespace lw::cli {

int run_cli(int argc, char** argv);

}  // namespace lw::cli
