#include "running_agent.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace lw::test {

using namespace std::chrono_literals;

RunningAgent::RunningAgent(const std::string& agent_path, std::vector<std::string> args) {
  std::vector<std::string> argv{agent_path, "--listen-address", "127.0.0.1:0"};
  if (std::find(args.begin(), args.end(), "--interval") == args.end()) argv.insert(argv.end(), {"--interval", "200ms"});
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(argv, /*merge_stderr=*/true);
  // The startup line, in text or JSON log format alike.
  const std::string marker = "serving metrics on http://127.0.0.1:";
  while (auto line = process_->read_line(20s)) {
    startup_log_ += *line + "\n";
    if (const auto at = line->find(marker); at != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(line->substr(at + marker.size())));
      break;
    }
  }
  if (port_ == 0) throw std::runtime_error("the agent did not start serving metrics");
  process_->keep_draining();
}

Scrape RunningAgent::after_rounds(int rounds) const {
  const auto done = [](const Scrape& s) {
    return s.value("leakwatch_snapshots_total", {{"result", "ok"}}).value_or(0);
  };
  const double start = done(scrape());
  for (int i = 0; i < 1200; ++i) {
    Scrape s = scrape();
    if (done(s) >= start + rounds) return s;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("the agent completed no sampling round in 60 s; its log:\n" + log());
}

}  // namespace lw::test
