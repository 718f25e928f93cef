#include "cli_app.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "leakwatch/exit_codes.h"
#include "inspect_command.h"
#include "leakwatch/error.h"
#include "leakwatch/log.h"

namespace lw::cli {
namespace {

void print_error(const std::string& message) { lw::print_error("leakwatch", message); }

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"leakwatch: where a process's memory really is, kernel socket buffers included"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Print debug logs, including libbpf's and the BPF verifier's");
  std::string host_proc = "/proc";
  std::string host_cgroup = "/sys/fs/cgroup";
  app.add_option("--host-proc", host_proc, "Where the host's /proc is mounted")->capture_default_str();
  app.add_option("--host-cgroup", host_cgroup, "Where the host's /sys/fs/cgroup is mounted")->capture_default_str();

  InspectOptions inspect;
  auto* inspect_cmd = app.add_subcommand("inspect", "Show where one process's memory is, kernel socket buffers included");
  inspect_cmd->add_option("pid", inspect.pid, "Process ID to inspect")->required();
  inspect_cmd->add_flag("--json", inspect.json, "Print JSON (schema: docs/inspect-json.md) instead of text");
  inspect_cmd->add_option("--top", inspect.top, "Entries in the endpoint and socket lists")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(fmt::format("{} (run 'leakwatch --help' for usage)", e.what()));
    return kExitUsage;
  }

  log::configure(verbose ? log::Level::debug : log::Level::error, log::Format::text);
  inspect.paths = HostPaths{host_proc, host_cgroup};
  return exit_code_of("leakwatch", [&] { return run_inspect(inspect, std::cout); });
}

}  // namespace lw::cli
