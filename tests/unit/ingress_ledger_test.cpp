#include "model/ingress_ledger.h"

#include <gtest/gtest.h>

namespace lw {
namespace {

const ProcessKey kApp{100, 5000};
const SocketOwner kAppOwner{kApp, "/pod/app"};

TEST(IngressLedger, CountsEachByteOnceAcrossSightingsAndClose) {
  IngressLedger ledger;
  ledger.observe(1, 1000, 400, kAppOwner);
  ledger.end_round();
  ledger.observe(1, 2500, 2500, kAppOwner);
  ledger.end_round();
  ledger.close(1, 3000, 3000, kAppOwner);
  ledger.end_round();
  EXPECT_TRUE(ledger.knows(1)) << "kept for one round: a snapshot may still show it";
  ledger.end_round();
  EXPECT_EQ(ledger.process_totals(kApp).received, 3000u);
  EXPECT_EQ(ledger.process_totals(kApp).consumed, 3000u);
  EXPECT_EQ(ledger.cgroup_totals("/pod/app").received, 3000u);
  EXPECT_EQ(ledger.tracked_sockets(), 0u) << "a closed socket not seen again is forgotten";
}

TEST(IngressLedger, ShortLivedSocketsAreCountedFromTheirCloseEvent) {
  IngressLedger ledger;
  for (uint64_t inode = 10; inode < 310; ++inode) ledger.close(inode, 5000, 5000, kAppOwner);
  ledger.end_round();
  EXPECT_EQ(ledger.process_totals(kApp).received, 300u * 5000);
}

// lw_close_event: inode 0 for connections that never had a file; two of
// them are two sockets, not one seen twice.
TEST(IngressLedger, SocketsClosedWithoutAnInodeAreEachCountedWhole) {
  IngressLedger ledger;
  ledger.close(IngressLedger::kNoInode, 700, 0, kAppOwner);
  ledger.close(IngressLedger::kNoInode, 500, 0, kAppOwner);
  ledger.end_round();
  EXPECT_EQ(ledger.process_totals(kApp).received, 1200u);
  EXPECT_EQ(ledger.tracked_sockets(), 0u);
}

TEST(IngressLedger, CloseBeforeTheLastSightingCreditsNothingTwice) {
  IngressLedger ledger;
  // The snapshot saw the final counters (the socket got a reset but is still
  // in the fd table) and the close event comes after.
  ledger.observe(7, 800, 0, kAppOwner);
  ledger.close(7, 800, 0, kAppOwner);
  ledger.end_round();
  ledger.observe(7, 800, 0, kAppOwner);
  ledger.end_round();
  EXPECT_EQ(ledger.process_totals(kApp).received, 800u);
  EXPECT_EQ(ledger.process_totals(kApp).consumed, 0u);
}

TEST(IngressLedger, TotalsNeverGoBackwards) {
  IngressLedger ledger;
  ledger.observe(1, 1000, 1000, kAppOwner);
  ledger.observe(1, 900, 900, kAppOwner);  // a torn or reordered read
  EXPECT_EQ(ledger.process_totals(kApp).received, 1000u);
  ledger.observe(1, 1200, 1100, kAppOwner);
  EXPECT_EQ(ledger.process_totals(kApp).received, 1200u);
  EXPECT_EQ(ledger.process_totals(kApp).consumed, 1100u);
}

TEST(IngressLedger, ProcessExitKeepsTheCgroupTotals) {
  IngressLedger ledger;
  ledger.observe(1, 500, 500, kAppOwner);
  ledger.close(1, 500, 500, kAppOwner);
  ledger.end_round();
  ledger.end_round();
  ledger.retain({}, {"/pod/app"});
  EXPECT_EQ(ledger.process_totals(kApp).received, 0u);
  EXPECT_EQ(ledger.cgroup_totals("/pod/app").received, 500u);
}

// Pods come and go all day: the totals of a cgroup no targeted process is
// in are forgotten once none of its sockets is tracked, and only then.
TEST(IngressLedger, GoneCgroupsAreForgottenOnceTheirSocketsAre) {
  IngressLedger ledger;
  for (uint64_t pod = 1; pod <= 100; ++pod)
    ledger.observe(pod, 10, 0, SocketOwner{std::nullopt, "/pod/" + std::to_string(pod)});
  for (uint64_t pod = 2; pod <= 100; ++pod) ledger.close(pod, 10, 0, SocketOwner{});
  ledger.retain({}, {});
  EXPECT_EQ(ledger.tracked_cgroups(), 100u) << "their sockets are still tracked";
  ledger.end_round();
  ledger.end_round();
  ledger.retain({}, {"/pod/100"});
  EXPECT_EQ(ledger.tracked_cgroups(), 2u) << "/pod/1 holds a live socket, /pod/100 a process";
  EXPECT_EQ(ledger.cgroup_totals("/pod/1").received, 10u);
  EXPECT_EQ(ledger.cgroup_totals("/pod/100").received, 10u);
  EXPECT_EQ(ledger.cgroup_totals("/pod/50").received, 0u);
}

TEST(IngressLedger, ASocketHandedToAnotherCgroupMovesItsAccount) {
  IngressLedger ledger;
  ledger.observe(1, 100, 0, kAppOwner);
  ledger.observe(1, 300, 0, SocketOwner{std::nullopt, "/pod/other"});
  ledger.retain({}, {});
  EXPECT_EQ(ledger.tracked_cgroups(), 1u) << "/pod/app holds nothing any more";
  EXPECT_EQ(ledger.cgroup_totals("/pod/other").received, 200u);
}

TEST(IngressLedger, PidReuseStartsANewProcess) {
  IngressLedger ledger;
  ledger.observe(1, 500, 500, kAppOwner);
  const ProcessKey reused{100, 9000};
  ledger.observe(2, 70, 70, SocketOwner{reused, "/pod/app"});
  EXPECT_EQ(ledger.process_totals(kApp).received, 500u);
  EXPECT_EQ(ledger.process_totals(reused).received, 70u);
}

// A socket the full ledger cannot track is counted once per round, however
// many rounds it lives, and its bytes are credited whole when it closes.
TEST(IngressLedger, FullLedgerCountsWhatItCannotTrackAndCreditsItsClose) {
  IngressLedger ledger(2);
  for (int round = 0; round < 3; ++round) {
    ledger.observe(1, 10, 0, kAppOwner);
    ledger.observe(2, 10, 0, kAppOwner);
    ledger.observe(3, 10, 0, kAppOwner);
    ledger.end_round();
    EXPECT_EQ(ledger.untracked_sockets(), 1u) << "round " << round;
  }
  EXPECT_EQ(ledger.process_totals(kApp).received, 20u);
  ledger.close(3, 30, 0, kAppOwner);
  ledger.end_round();
  EXPECT_EQ(ledger.untracked_sockets(), 0u);
  EXPECT_EQ(ledger.process_totals(kApp).received, 50u);
}

TEST(IngressLedger, SocketsWhoseCloseWasLostAreForgottenAfterIdleRounds) {
  IngressLedger ledger;
  ledger.observe(1, 10, 0, kAppOwner);
  for (int i = 0; i < 3; ++i) ledger.end_round(2);
  EXPECT_TRUE(ledger.knows(1)) << "idle for 2 rounds: still remembered";
  ledger.end_round(2);
  EXPECT_FALSE(ledger.knows(1));
}

}  // namespace
}  // namespace lw
