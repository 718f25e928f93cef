// leakwatch-agent started by a test on an ephemeral loopback port, scraped
// over HTTP; its log is kept for assertions and failure messages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "prometheus_scrape.h"

namespace lw::test {

class RunningAgent {
 public:
  // Adds --listen-address 127.0.0.1:0, and --interval 200ms unless args set one.
  RunningAgent(const std::string& agent_path, std::vector<std::string> args);
  uint16_t port() const { return port_; }
  // Everything it printed, from its first line.
  std::string log() const { return startup_log_ + process_->drained_output(); }
  ChildProcess& process() { return *process_; }
  Scrape scrape() const { return test::scrape(port_); }
  // The first scrape taken after `rounds` more sampling rounds completed.
  // Generous: under ThreadSanitizer a round is several times slower.
  Scrape after_rounds(int rounds) const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string startup_log_;  // the lines up to the one that says where it serves
  uint16_t port_ = 0;
};

}  // namespace lw::test
