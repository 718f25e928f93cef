#include "cli_app.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "analyze_command.h"
#include "collect/host_paths.h"
#include "flags/shared_flags.h"
#include "inspect_command.h"
#include "util/error.h"
#include "util/exit_codes.h"
#include "util/log.h"
#include "watch_command.h"

namespace lw::cli {
namespace {

void print_error(const std::string& message) { lw::print_error("leakwatch", message); }

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text) {
  if (const auto d = parse_duration(text)) return *d;
  throw Error(ErrorKind::usage, fmt::format("bad {} '{}': use a number with a unit: 500ms, 30s, 5m", flag, text));
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"leakwatch: where a process's memory really is, kernel socket buffers included"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Print debug logs, including libbpf's and the BPF verifier's");
  std::string host_root;
  InspectOptions inspect;
  add_host_path_options(app, inspect.paths, host_root);

  auto* inspect_cmd =
      app.add_subcommand("inspect", "Show where one process's memory is, kernel socket buffers included");
  inspect_cmd->add_option("pid", inspect.pid, "Process ID to inspect")->required();
  inspect_cmd->add_flag("--json", inspect.json, "Print JSON (schema: docs/inspect-json.md) instead of text");
  inspect_cmd->add_option("--top", inspect.top, "Entries in the endpoint and socket lists")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  BackendFlags backend;
  add_backend_options(*inspect_cmd, backend);
  std::string bpf_cache = "/sys/fs/bpf/leakwatch";
  inspect_cmd
      ->add_option("--bpf-cache", bpf_cache,
                   "Directory in a BPF filesystem where the loaded socket iterator is kept for the next run (until "
                   "reboot); none: load it every time")
      ->type_name("DIR|none")
      ->capture_default_str();
  std::string watch_for, interval = "2s", stall_after = "60s";
  inspect_cmd->add_option("--watch", watch_for, "Watch for this long (30s, 5m), then give a verdict");
  inspect_cmd->add_option("--interval", interval, "Sampling interval of --watch")->capture_default_str();
  inspect_cmd
      ->add_option("--stall-after", stall_after,
                   "A socket with unread data whose read position stands still this long is a stalled reader")
      ->capture_default_str();
  std::string record;
  inspect_cmd
      ->add_option("--record", record,
                   "With --watch: write every sample to FILE (JSON lines) for 'leakwatch analyze FILE'")
      ->type_name("FILE");

  AnalyzeOptions analyze;
  auto* analyze_cmd = app.add_subcommand(
      "analyze", "Read a recording of 'inspect --watch --record FILE' back through the analysis: the same verdict");
  analyze_cmd->add_option("file", analyze.path, "The recording")->required();
  analyze_cmd->add_flag("--json", analyze.json, "Print JSON (the 'watch' object of docs/inspect-json.md)");

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
  return exit_code_of("leakwatch", [&] {
    if (analyze_cmd->parsed()) return run_analyze(analyze, std::cout, std::cerr);
    place_under_host_root(app, host_root, inspect.paths);
    require_host_paths(inspect.paths);
    inspect.backend = to_backend_choice(backend);
    if (bpf_cache != "none") inspect.backend.bpf.program_cache = bpf_cache;
    if (watch_for.empty()) {
      if (inspect_cmd->count("--interval") || inspect_cmd->count("--stall-after") || inspect_cmd->count("--record")) {
        throw Error(ErrorKind::usage, "--interval, --stall-after and --record only apply with --watch DURATION");
      }
      return run_inspect(inspect, std::cout);
    }
    const WatchOptions watch{.duration = duration_flag("--watch", watch_for),
                             .interval = duration_flag("--interval", interval),
                             .stall_after = duration_flag("--stall-after", stall_after),
                             .record = record};
    if (watch.interval > watch.duration) {
      throw Error(ErrorKind::usage, "--interval is longer than --watch: nothing would be sampled twice");
    }
    return run_watch(inspect, watch, std::cout, std::cerr);
  });
}

}  // namespace lw::cli
