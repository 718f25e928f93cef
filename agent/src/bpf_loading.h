// What every unit that loads a BPF program shares: libbpf's output routed
// through our logger, and one classification of load failures into lw::Error,
// so the CLI and the agent report missing privileges the same way everywhere.
#pragma once

#include <string_view>

namespace lw::bpf_loading {

// Sends libbpf's messages (the verifier log among them) to lw::log.
void route_libbpf_output();

// Throws for a load of `program` that failed with errno `err`: no_privilege
// when we lack the capabilities, bpf_refused when the kernel said no anyway.
// `requirement` names what the kernel must offer, for the message.
[[noreturn]] void throw_load_failure(std::string_view program, std::string_view requirement, int err);

}  // namespace lw::bpf_loading
