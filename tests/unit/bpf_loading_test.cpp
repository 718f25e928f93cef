// Load failures explained from what libbpf and the verifier really said:
// the fixtures are whole logs captured on real kernels.
#include "collect/bpf_loading.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "fixture.h"

namespace lw::test {
namespace {

using bpf_loading::explain_refusal;

// 6.18 marks the socket behind bpf_sock_from_file() untrusted; captured with
// the iterator as it was before it stopped passing that pointer to helpers.
TEST(ExplainRefusal, QuotesTheVerifierVerdictAndNamesTheProgram) {
  const auto line = explain_refusal(fixture("libbpf/untrusted_socket_6.18.log"), EACCES);
  EXPECT_EQ(line,
            "the verifier refused program dump_sockets: \"R1 type=untrusted_ptr_ expected=sock_common, sock, "
            "tcp_sock, xdp_sock, ptr_, trusted_ptr_\"; run with --verbose for the whole verifier log");
}

TEST(ExplainRefusal, VerifierRefusalIsNotCalledAPrivilegeProblem) {
  const auto line = explain_refusal(fixture("libbpf/untrusted_socket_6.18.log"), EACCES);
  EXPECT_EQ(line.find("CAP_BPF"), std::string::npos) << line;
  EXPECT_EQ(line.find("lockdown"), std::string::npos) << line;
}

TEST(ExplainRefusal, AHelperTheKernelDoesNotKnowIsNamedWithItsRelease) {
  const std::string log =
      "libbpf: prog 'dump_sockets': BPF program load failed: Invalid argument\n"
      "libbpf: prog 'dump_sockets': -- BEGIN PROG LOAD LOG --\n"
      "27: (85) call unknown#162\n"
      "invalid func unknown#162\n"
      "processed 27 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n"
      "-- END PROG LOAD LOG --\n";
  EXPECT_EQ(explain_refusal(log, EINVAL),
            "program dump_sockets needs the helper bpf_sock_from_file, which this kernel lacks (it appeared in "
            "Linux 5.11); leakwatch's BPF programs need Linux >= 6.1 with BTF");
}

TEST(ExplainRefusal, NoVerifierLogFallsBackToTheErrno) {
  EXPECT_EQ(explain_refusal("", ENOSYS),
            "bpf(2) answered ENOSYS: the kernel was built without BPF, or a seccomp profile forbids bpf(2)");
  EXPECT_NE(explain_refusal("", EPERM).find("lockdown"), std::string::npos);
}

}  // namespace
}  // namespace lw::test
