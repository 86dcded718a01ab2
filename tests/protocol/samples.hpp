// Fixed, hand-built examples of every message: one per body alternative, each
// with non-empty lists, binary bytes and large integers, so every field kind
// appears on the wire. Used by the malformed-input tests and as fuzz seeds.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "protocol/messages.hpp"

namespace tricache::protocol::samples {

inline constexpr std::uint64_t kBig = std::numeric_limits<std::uint64_t>::max();

inline std::string binary(std::string_view text) {
    std::string out(text);
    out.push_back('\0');
    out.push_back(static_cast<char>(0xff));
    return out;
}

inline Batch batch() {
    return {
        Command{7, 1, {Set{binary("k1"), std::string(40, 'v')}, Get{"k2"}}},
        Command{kBig, 2, {Cas{"k3", std::nullopt, "new"}, Cas{"k4", std::string("old"), ""}, Del{""}}},
        Command{8, 3, {Incr{"n", -5}, Incr{"n", std::numeric_limits<std::int64_t>::min()}, Append{"a", "tail"},
                       Exists{"e"}, Require{"r", true}, Count{}, Scan{kBig, 10}, Clear{}}},
        Command{9, 4,
                {Set{"t", "v", {ExpiryKind::After, 10000}}, Set{"t", "w", {ExpiryKind::Keep, 0}},
                 Expire{"t", {ExpiryKind::At, -1}, ExpireCond::XxLt}, Persist{"t"}, Ttl{"t"}, Purge{256}},
                1'700'000'000'000},
    };
}

inline View view() { return View{5, {{1, 10}, {2, 20}, {std::numeric_limits<NodeId>::max(), kBig}}, {300, 1}, kBig,
                                 {{1, 10, 0}, {std::numeric_limits<NodeId>::max(), kBig, kBig}}}; }

inline EpochClosingRecord ecr() {
    return EpochClosingRecord{4, {CommittedTx{{1, 10, 3}, {250, 2}, batch()}}, {{2, 20, 9}, {1, 10, 4}}, view()};
}

inline std::vector<PeerBody> peer_bodies() {
    const TxId tx{1, 10, 42};
    return {
        CanCommit{tx, batch()},
        Vote{tx, true, {200, 2}, VoteNoReason::None},
        PreCommit{tx, {1, 0}, {201, 1}},
        PreAbort{tx, {3, 2}},
        Ack{tx, {3, 2}},
        Nack{tx, {3, 2}, {4, 1}},
        DoCommit{tx, {201, 1}},
        DoAbort{tx},
        DecisionQuery{{tx, {2, 20, 1}}},
        Decision{tx, Outcome::Committed, {201, 1}},
        StateReq{tx, {5, 3}},
        StateResp{tx, {5, 3}, TxState::PreCommitted, {1, 0}, {200, 2}, {201, 1}},
        VcPrepare{{6, 2}, 5},
        VcPromise{{6, 2}, 4, {5, 1}, ecr(),
                  {TxReport{tx, TxState::Waiting, {1, 0}, {200, 2}, {0, 0}, batch()}}, 99},
        VcAccept{{6, 2}, ecr()},
        VcAccepted{{6, 2}},
        VcNack{{6, 2}, {7, 3}, 5},
        NewView{ecr()},
        RbPrepare{1u << 21},
        RbPromise{1u << 21, 3},
        JoinReq{false},
        SnapshotRequest{5, 3, 7},
        SnapshotChunk{5, 3, 10, binary("chunk"), 7},
        Heartbeat{1234, {{1, 10, 41}, {2, 20, 7}}},
    };
}

inline std::vector<PeerMessage> peer_messages() {
    std::vector<PeerMessage> out;
    for (auto& b : peer_bodies()) {
        out.push_back(PeerMessage{PeerHeader{kProtocolVersion, binary("cluster"), 2, 77, 5, 1u << 20}, std::move(b)});
    }
    return out;
}

inline std::vector<ClientRequest> client_requests() {
    const std::vector<ClientRequestBody> bodies = {
        OpsRequest{{Set{"k", "v"}, Get{binary("k")}, Cas{"k", std::string("v"), "w"}, Del{"k"}}},
        LocalGetRequest{binary("key")},
        StatusRequest{},
        AdminRequest{AdminKind::Isolate, {1, 3}},
    };
    std::vector<ClientRequest> out;
    for (const auto& b : bodies) out.push_back(ClientRequest{kProtocolVersion, "cluster", 9, kBig, b});
    return out;
}

inline std::vector<ClientResponse> client_responses() {
    const std::vector<ClientResponseBody> bodies = {
        OpsReply{{OpResult{true, std::nullopt}, OpResult{false, binary("current")}}},
        LocalGetReply{true, binary("value"), 17},
        StatusReply{2, 77, 5, {{1, 10}, {2, 77}}, false, "rejoining", 100, kBig, 3, 4, 5, 6, 1u << 21},
        AdminReply{"hash chain", {1, 2, kBig}},
        ErrorReply{ErrorCode::NoQuorum, "no majority"},
    };
    std::vector<ClientResponse> out;
    for (const auto& b : bodies) out.push_back(ClientResponse{kProtocolVersion, 9, 3, b});
    return out;
}

inline Snapshot snapshot() {
    return Snapshot{5,
                    {300, 1},
                    1000,
                    1u << 20,
                    {{binary("a"), "1"}, {"b", binary("2")}, {"", ""}},
                    {RetryEntry{7, 1, {OpResult{true, std::nullopt}}}, RetryEntry{8, 4, {}}},
                    42,
                    kBig,
                    1'700'000'000'000,
                    {{binary("a"), kBig}}};
}

}  // namespace tricache::protocol::samples
