// R-VC-DECIDE judged at each proposal, from the promises the proposer chose
// from (coordinator::EcrProposedEvent): if some promise carries a record
// accepted in the instance, the proposal is the one accepted at the highest
// ballot; otherwise it is built from the promisers' reports (every transaction
// some promiser reports committed or pre-committed is committed with its
// final timestamp, every other reported one is aborted, nothing else is
// named) and its next view holds every promiser above every final timestamp.
// A wrong pick usually stays harmless until a later instance chooses it too,
// so the one-record-per-epoch check sees it rarely; this sees every pick.
#pragma once

#include "checker/types.hpp"
#include "coordinator/engine.hpp"

namespace tricache::sim {

checker::CheckResult check_ecr_proposal(protocol::NodeId proposer, const coordinator::EcrProposedEvent& proposal);

}  // namespace tricache::sim
