// The delivery-log record (tricache-node --delivery-log) round-trips through
// the codec, and its decoder is as strict as the message decoders: a cut-off
// record or a message of another family is a named error, never a value.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/codec.hpp"
#include "tests/protocol/generators.hpp"

namespace tricache::protocol {
namespace {

rc::Gen<DeliveryRecord> delivery_record(const gen::Sizes& s) {
    return rc::gen::oneOf(
        rc::gen::map(rc::gen::tuple(gen::u64(), gen::tx_id(), gen::timestamp(), gen::u64(), gen::batch(s)),
                     [](const auto& t) {
                         const auto& [index, tx, final_ts, epoch, batch] = t;
                         return DeliveryRecord{DeliveredRecord{index, tx, final_ts, epoch, batch}};
                     }),
        rc::gen::map(rc::gen::tuple(gen::u64(), gen::u64(), gen::u64()), [](const auto& t) {
            const auto& [epoch, length, hash] = t;
            return DeliveryRecord{SnapshotInstalledRecord{epoch, length, hash}};
        }));
}

RC_GTEST_PROP(DeliveryRecordCodec, RoundTrips, ()) {
    const gen::Sizes sizes;
    const DeliveryRecord rec = *delivery_record(sizes);
    const std::string bytes = encode(rec);
    auto back = decode_delivery_record(bytes, gen::limits_for(sizes));
    RC_ASSERT(back.ok());
    RC_ASSERT(back.value() == rec);
}

RC_GTEST_PROP(DeliveryRecordCodec, EveryStrictPrefixIsANamedError, ()) {
    const DeliveryRecord rec = *delivery_record(gen::Sizes{});
    const std::string bytes = encode(rec);
    const auto cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
    auto back = decode_delivery_record(std::string_view(bytes).substr(0, cut));
    RC_ASSERT(!back.ok());
    RC_ASSERT(back.error().code == ErrorCode::Truncated);
}

TEST(DeliveryRecordCodec, OtherFamiliesAreRefusedByKind) {
    const PeerMessage peer{PeerHeader{kProtocolVersion, "c", 1, 1, 1}, Heartbeat{}};
    auto as_record = decode_delivery_record(encode(peer));
    ASSERT_FALSE(as_record.ok());
    EXPECT_EQ(as_record.error().code, ErrorCode::UnknownKind);
    EXPECT_NE(as_record.error().detail.find("DeliveryRecord.kind: got a PeerMessage"), std::string::npos)
        << as_record.error().detail;
    const std::string record = encode(DeliveryRecord{SnapshotInstalledRecord{3, 10, 42}});
    auto as_peer = decode_peer_message(record);
    ASSERT_FALSE(as_peer.ok());
    EXPECT_EQ(as_peer.error().code, ErrorCode::UnknownKind);
    EXPECT_NE(as_peer.error().detail.find("got a DeliveryRecord"), std::string::npos) << as_peer.error().detail;
}

TEST(DeliveryRecordCodec, GoldenBytesOfASnapshotRecord) {
    // [1, 5, [2, 3, 10, 42]]: pins the layout documented in codec.cpp.
    const std::string want("\x93\x01\x05\x94\x02\x03\x0a\x2a", 8);
    EXPECT_EQ(encode(DeliveryRecord{SnapshotInstalledRecord{3, 10, 42}}), want);
}

}  // namespace
}  // namespace tricache::protocol
